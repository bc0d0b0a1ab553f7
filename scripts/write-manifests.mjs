// Build step: derives every pack's sonde-pack.json from its compiled definition,
// and the manifest JSON Schema from the zod schema. Nothing here is written by hand.
// The document is the one `sonde-pack manifest` writes for packs outside this repository.
import { readdirSync, readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname, '..');
const sdk = await import(pathToFileURL(path.join(root, 'pack-sdk/dist/index.js')).href);
const tool = await import(pathToFileURL(path.join(root, 'pack-tool/dist/index.js')).href);
mkdirSync(path.join(root, 'pack-sdk/schema'), { recursive: true });
writeFileSync(path.join(root, 'pack-sdk/schema/sonde-pack.schema.json'), JSON.stringify(sdk.packManifestJsonSchema(), null, 2) + '\n');

const packsDir = path.join(root, 'packs');
for (const name of readdirSync(packsDir)) {
  const entry = path.join(packsDir, name, 'dist/index.js');
  if (!existsSync(entry)) continue;
  const mod = await import(pathToFileURL(entry).href);
  const pack = mod.default;
  if (!pack?.manifest) throw new Error(`packs/${name}: dist/index.js must default-export definePack(...)`);
  const { version } = JSON.parse(readFileSync(path.join(packsDir, name, 'package.json'), 'utf8'));
  writeFileSync(path.join(packsDir, name, 'sonde-pack.json'), tool.serializeManifest(tool.manifestDocument(pack.manifest, version)));
}
