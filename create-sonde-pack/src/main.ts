import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateError, EXIT_FAILED, EXIT_OK, formatError, usageError } from './errors.js';
import { generate, populatedEntries, refusePopulated, type Answers } from './generate.js';
import { npmInstall } from './install.js';
import { checkPackName, checkProbeName, checkScope, packageNameFor, packNameFromFolder } from './names.js';
import { parseOptions, TEMPLATES, usage, type Options, type Template } from './options.js';
import { terminalPrompter, type Prompter } from './prompts.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Both stdin and stdout are terminals: prompts may run. */
  interactive: boolean;
  prompter?: () => Prompter;
}

const DEFAULT_PROBE: Record<Template, string> = { system: 'os.info', integration: 'service.health' };

function ownVersion(): string {
  const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** Flags first; on a terminal (and without --yes) a prompt for each value not given; defaults otherwise. */
async function resolveAnswers(options: Options, io: Io): Promise<Answers> {
  const prompting = options.interactive && io.interactive;
  const prompter = prompting ? (io.prompter ?? terminalPrompter)() : undefined;
  try {
    let directory = options.directory;
    if (directory === undefined) {
      if (!prompter)
        throw usageError(
          'No directory given',
          'create-sonde-pack needs the folder to create the pack in (and there is no terminal to ask).',
          'Run npm create sonde-pack@latest my-pack -- --yes',
        );
      directory = await prompter.ask('Folder for the new pack', 'my-pack', (answer) => answer);
    }
    const absolute = path.resolve(directory);
    // Refuse before asking anything else: answering prompts for a folder that will be refused wastes the user's time.
    refusePopulated(absolute);
    const ask = async (flag: string | undefined, question: string, fallback: string | undefined, check: (s: string) => string) => {
      if (flag !== undefined) return check(flag);
      if (prompter) return prompter.ask(question, fallback ?? '', check);
      if (fallback === undefined) throw usageError('Missing value', `${question}: no default can be derived.`);
      return check(fallback);
    };
    const template = (await ask(options.template, `Template (${TEMPLATES.join(' or ')})`, 'system', (answer) => {
      if (!(TEMPLATES as readonly string[]).includes(answer))
        throw usageError('Unknown template', `"${answer}" is not a template: choose system or integration.`);
      return answer;
    })) as Template;
    const folderName = path.basename(absolute);
    const suggested = packNameFromFolder(folderName);
    if (options.name === undefined && suggested === undefined && !prompter)
      throw usageError(
        'Invalid package name',
        `No pack name can be made from the folder name "${folderName}": a pack name starts with a lowercase letter and holds only lowercase letters, digits and dashes.`,
        `Pass --name, e.g. npm create sonde-pack ${directory} -- --name my-pack --yes`,
      );
    const packName = await ask(options.name, 'Pack name', suggested ?? 'my-pack', checkPackName);
    const scopeAnswer = await ask(options.scope, 'npm scope (empty for none)', '', (answer) => answer);
    const scope = scopeAnswer === '' || scopeAnswer === '-' ? undefined : checkScope(scopeAnswer);
    const probeName = await ask(options.probe, 'First probe name', DEFAULT_PROBE[template], checkProbeName);
    return {
      directory: absolute,
      template,
      packName,
      packageName: packageNameFor(packName, scope),
      probeName,
      sdkRange: `^${ownVersion()}`,
    };
  } finally {
    prompter?.close();
  }
}

function nextSteps(answers: Answers, installed: boolean, shownDirectory: string): string {
  const cd = `cd ${shownDirectory}`;
  const lines = [
    '',
    `✔ Created ${answers.packageName} (${answers.template} pack "${answers.packName}", probe ${answers.packName}.${answers.probeName}) in ${shownDirectory}`,
    '',
    'Next:',
    `  ${cd}`,
    ...(installed ? [] : ['  npm install']),
    '  npm test                    recorded fixtures, plus the probe against ' +
      (answers.template === 'system' ? 'this host' : 'a fake API on loopback'),
    `  npx sonde-pack try ${answers.probeName} --params '{}'   run the probe here and print the permission checks it passed`,
    '  npm run sign                build, validate and sign: a .tgz for `sonde packs install` or `npm publish`',
    '',
    'Writing packs: README.md in the new folder, and the @sonde/pack-sdk README.',
  ];
  return lines.join('\n');
}

export async function main(argv: string[], io: Io): Promise<number> {
  try {
    const options = parseOptions(argv);
    if (options.help) {
      io.out(usage());
      return EXIT_OK;
    }
    if (options.version) {
      io.out(ownVersion());
      return EXIT_OK;
    }
    const answers = await resolveAnswers(options, io);
    // Re-checked right before writing: the folder may have been filled while the prompts waited.
    if (populatedEntries(answers.directory).length > 0) refusePopulated(answers.directory);
    const files = generate(answers);
    io.out(`Wrote ${files.length} files: ${files.join(', ')}`);
    if (options.install) await npmInstall(answers.directory);
    const shown = path.relative(process.cwd(), answers.directory) || '.';
    io.out(nextSteps(answers, options.install, shown.startsWith('..') ? answers.directory : shown));
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CreateError) {
      io.err(formatError(error));
      return error.exitCode;
    }
    io.err(
      formatError(
        new CreateError('Unexpected failure', String((error as Error)?.message ?? error), 'Please report this with the command you ran.'),
      ),
    );
    return EXIT_FAILED;
  }
}
