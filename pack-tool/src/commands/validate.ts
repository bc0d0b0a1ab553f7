import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PackManifestSchema, UNVERSIONED } from '@sonde/pack-sdk';
import { parse } from '../args.js';
import { checkPackageJson } from '../checks/package-json.js';
import { checkPermissions } from '../checks/permissions.js';
import { checkSources } from '../checks/sources.js';
import type { Finding } from '../findings.js';
import type { ToolError } from '../output.js';
import { EXIT_FAILED, EXIT_OK, type Io } from '../output.js';
import { loadPack, loadProject, manifestDocument, serializeManifest, type Project } from '../project.js';
import { toSarif } from '../sarif.js';
import { toolVersion } from '../version.js';

/** The checks on the built pack: it loads, its manifest parses, sonde-pack.json is current, its permissions only read. */
async function checkBuilt(project: Project): Promise<Finding[]> {
  let pack;
  try {
    pack = await loadPack(project);
  } catch (error) {
    return [
      {
        rule: 'manifest/load',
        level: 'error',
        file: path.relative(project.dir, project.entry),
        message: `${(error as Error).message}; ${(error as ToolError).next ?? ''}`.trim(),
      },
    ];
  }
  const findings: Finding[] = [];
  let parsed;
  try {
    parsed = PackManifestSchema.safeParse(pack.manifest);
  } catch (error) {
    // definePack makes each probe's JSON Schema when it is first read (here): a zod schema JSON Schema cannot express
    // (a bigint, a Date, a transform's output) throws then, and is the author's to fix, like any other schema finding.
    return [{ rule: 'manifest/schema', level: 'error', file: 'src/index.ts', message: (error as Error).message }];
  }
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      findings.push({
        rule: 'manifest/schema',
        level: 'error',
        file: 'src/index.ts',
        message: `${issue.path.join('.') || 'manifest'}: ${issue.message}`,
      });
    return findings;
  }
  // A definition without a version builds UNVERSIONED; one that still names a version is deprecated and only matters when it disagrees.
  if (parsed.data.version !== UNVERSIONED && parsed.data.version !== project.packageJson.version)
    findings.push({
      rule: 'manifest/version',
      level: 'warning',
      file: 'src/index.ts',
      message: `definePack says version ${parsed.data.version}, package.json ${project.packageJson.version}: the pack's version is package.json's; remove version from definePack`,
    });
  const expected = serializeManifest(manifestDocument(parsed.data, project.packageJson.version));
  const manifestName = path.relative(project.dir, project.manifestFile);
  if (!existsSync(project.manifestFile))
    findings.push({
      rule: 'manifest/stale',
      level: 'error',
      file: manifestName,
      message: `${manifestName} is missing: run npm run build (sonde-pack manifest writes it)`,
    });
  else if (readFileSync(project.manifestFile, 'utf8') !== expected)
    findings.push({
      rule: 'manifest/stale',
      level: 'error',
      file: manifestName,
      message: `${manifestName} differs from the built definition: run npm run build (it is generated; never edit it by hand)`,
    });
  findings.push(...checkPermissions(parsed.data));
  return findings;
}

export async function validateProject(project: Project, options: { sourceOnly?: boolean } = {}): Promise<Finding[]> {
  const findings = [...checkPackageJson(project), ...checkSources(project)];
  if (!options.sourceOnly) findings.push(...(await checkBuilt(project)));
  return findings;
}

export const validateCommand = {
  name: 'validate',
  usage: 'sonde-pack validate [--dir DIR] [--source-only] [--sarif FILE] [--json]',
  summary: 'check schema, permission shapes, the peer-dependency contract, forbidden imports and writes; exit 1 on any error',
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parse(
      argv,
      { dir: { type: 'string' }, 'source-only': { type: 'boolean' }, sarif: { type: 'string' } },
      { min: 0, max: 0, what: '' },
      'validate',
    );
    if (values.help) {
      io.out(
        `${this.usage}\n  ${this.summary}\n  --source-only  package.json and source checks only (no build needed; npm run lint)\n  --sarif FILE   also write the findings as SARIF 2.1.0 for CI`,
      );
      return EXIT_OK;
    }
    const project = loadProject(path.resolve((values.dir as string | undefined) ?? '.'));
    const findings = await validateProject(project, { sourceOnly: values['source-only'] === true });
    const errors = findings.filter((finding) => finding.level === 'error').length;
    const warnings = findings.length - errors;
    if (typeof values.sarif === 'string')
      writeFileSync(path.resolve(values.sarif), `${JSON.stringify(toSarif(findings, toolVersion()), null, 2)}\n`);
    if (values.json) io.out(JSON.stringify({ ok: errors === 0, errors, warnings, findings }));
    else {
      for (const finding of findings)
        io.out(
          `${finding.level === 'error' ? 'error  ' : 'warning'} ${finding.rule.padEnd(28)} ${finding.file ? `${finding.file}${finding.line ? `:${finding.line}` : ''}: ` : ''}${finding.message}`,
        );
      io.out(
        `${project.packageJson.name}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}${values['source-only'] ? ' (sources only)' : ''}`,
      );
    }
    return errors > 0 ? EXIT_FAILED : EXIT_OK;
  },
};
