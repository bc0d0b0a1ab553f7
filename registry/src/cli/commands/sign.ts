import { stat } from 'node:fs/promises';
import { readKeyFile } from '../../crypto/keys.js';
import { signPackDir, signPackTarball } from '../../pack/signature.js';
import { EXIT_OK, UsageError, parse, parseDate, report, required, type Command } from '../output.js';

export const sign: Command = {
  name: 'sign',
  summary: 'sign a pack folder or an npm tarball',
  usage: 'sign <pack dir|tgz> --key FILE [--published-at ISO] [--out FILE.tgz]',
  async run(argv, io) {
    const { values, positionals } = parse(
      argv,
      { key: { type: 'string' }, 'published-at': { type: 'string' }, out: { type: 'string' } },
      { min: 1, max: 1 },
    );
    const target = positionals[0];
    const key = await readKeyFile(required(values.key, '--key'));
    const publishedAt = parseDate(values['published-at'], '--published-at');
    const info = await stat(target).catch(() => undefined);
    if (info === undefined) throw new UsageError(`${target} does not exist`);
    const options = publishedAt ? { publishedAt } : {};
    const result = info.isDirectory()
      ? await signPackDir(target, key, options)
      : await signPackTarball(target, key, { ...options, ...(values.out ? { out: values.out } : {}) });
    const { statement } = result.signature;
    const { warnings } = result;
    for (const warning of values.json ? [] : warnings) io.err(`warning: ${warning}`);
    report(
      io,
      values.json,
      {
        ok: true,
        package: statement.package.name,
        pack: statement.pack.name,
        version: statement.package.version,
        keyId: statement.keyId,
        publishedAt: statement.publishedAt,
        integrity: result.integrity,
        files: result.files,
        warnings,
        written: info.isDirectory() ? `${target}/sonde-signature.json` : (values.out ?? target),
      },
      [
        `signed ${statement.package.name}@${statement.package.version} (${result.files} files) with key ${statement.keyId}`,
        `integrity ${result.integrity}`,
      ],
    );
    return EXIT_OK;
  },
};
