import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from '../args.js';
import { EXIT_OK, type Io } from '../output.js';
import { loadPack, loadProject, manifestDocument, serializeManifest } from '../project.js';

export const manifestCommand = {
  name: 'manifest',
  usage: 'sonde-pack manifest [--dir DIR] [--json]',
  summary: 'write sonde-pack.json from the built definition (version from package.json); run by npm run build',
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parse(argv, { dir: { type: 'string' } }, { min: 0, max: 0, what: '' }, 'manifest');
    if (values.help) {
      io.out(`${this.usage}\n  ${this.summary}`);
      return EXIT_OK;
    }
    const project = loadProject(path.resolve((values.dir as string | undefined) ?? '.'));
    const pack = await loadPack(project);
    const document = manifestDocument(pack.manifest, project.packageJson.version);
    writeFileSync(project.manifestFile, serializeManifest(document));
    const probes = pack.manifest.probes.map((probe) => `${pack.manifest.name}.${probe.name}`);
    if (values.json)
      io.out(
        JSON.stringify({ ok: true, file: project.manifestFile, pack: pack.manifest.name, version: project.packageJson.version, probes }),
      );
    else
      io.out(
        `wrote ${path.relative(process.cwd(), project.manifestFile) || project.manifestFile}: ${pack.manifest.name}@${project.packageJson.version}, probes ${probes.join(', ')}`,
      );
    return EXIT_OK;
  },
};
