import { readKeyFile, readPublicKeyFile } from '../../crypto/keys.js';
import { RegistryError } from '../../errors.js';
import {
  createPackIndex,
  signPackIndex,
  UnsignedPackIndexSchema,
  verifyPackIndex,
  type IndexVersion,
} from '../../pack-index/index-file.js';
import { resolveUpdate } from '../../pack-index/resolve-update.js';
import { verifyPack } from '../../pack/verify.js';
import { loadTrustFile } from '../../trust/trust.js';
import { readJson, writeJson } from '../files.js';
import { EXIT_OK, EXIT_REFUSED, UsageError, parse, report, required, type Command, type Io } from '../output.js';

async function create(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { out: { type: 'string' }, trust: { type: 'string' }, organisation: { type: 'string' } },
    { min: 1, max: Number.MAX_SAFE_INTEGER },
  );
  const out = required(values.out, '--out');
  const trust = await loadTrustFile(required(values.trust, '--trust'));
  // An existing index is extended: its versions are kept and its serial goes up by one.
  const existing = await readJson(out, 'SONDE_ERR_INDEX_INVALID', true);
  const previous = existing === undefined ? undefined : UnsignedPackIndexSchema.safeParse(stripSignature(existing));
  if (previous && !previous.success) throw new RegistryError('SONDE_ERR_INDEX_INVALID', `${out} exists and is not a pack index`);
  const packs: Record<string, IndexVersion[]> = structuredClone(previous?.data.packs ?? {});
  const added: string[] = [];
  for (const path of positionals) {
    const result = await verifyPack(path, trust);
    if (!result.ok) throw new RegistryError(result.code, `${path}: ${result.reason}`, result.file);
    const versions = (packs[result.packageName] ??= []);
    const same = versions.find((entry) => entry.version === result.version);
    if (same && same.integrity !== result.integrity) {
      throw new RegistryError(
        'SONDE_ERR_INDEX_INVALID',
        `${result.packageName}@${result.version} is already indexed with another integrity`,
      );
    }
    if (!same) versions.push({ version: result.version, integrity: result.integrity });
    added.push(`${result.packageName}@${result.version}`);
  }
  const organisation = values.organisation ?? previous?.data.organisation;
  const index = createPackIndex(packs, { serial: (previous?.data.serial ?? 0) + 1, ...(organisation ? { organisation } : {}) });
  await writeJson(out, index);
  report(io, values.json, { ok: true, file: out, serial: index.serial, added }, [
    `index ${out} (serial ${index.serial}, unsigned): ${added.join(', ')}`,
    `sign it with: sonde-registry index sign ${out} --key ORG_KEY`,
  ]);
  return EXIT_OK;
}

function stripSignature(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const { signature: _signature, keyId: _keyId, ...rest } = value as Record<string, unknown>;
  return rest;
}

async function sign(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { key: { type: 'string' }, out: { type: 'string' } }, { min: 1, max: 1 });
  const key = await readKeyFile(required(values.key, '--key'));
  const file = positionals[0];
  const parsed = UnsignedPackIndexSchema.safeParse(stripSignature(await readJson(file, 'SONDE_ERR_INDEX_INVALID')));
  if (!parsed.success) throw new RegistryError('SONDE_ERR_INDEX_INVALID', `${file} is not a pack index`);
  const signed = signPackIndex(parsed.data, key);
  const out = values.out ?? file;
  await writeJson(out, signed);
  report(io, values.json, { ok: true, file: out, serial: signed.serial, keyId: signed.keyId }, [
    `index ${out} signed with key ${signed.keyId} (serial ${signed.serial})`,
  ]);
  return EXIT_OK;
}

async function indexKeys(values: { key?: string | undefined; trust?: string | undefined }): Promise<string[]> {
  if (values.key) return [(await readPublicKeyFile(values.key)).publicKey];
  if (values.trust) return (await loadTrustFile(values.trust)).store.indexKeys.map((key) => key.publicKey);
  throw new UsageError('--key PUBLIC_KEY_FILE or --trust FILE is required');
}

async function verify(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { key: { type: 'string' }, trust: { type: 'string' } }, { min: 1, max: 1 });
  const result = verifyPackIndex(await readJson(positionals[0], 'SONDE_ERR_INDEX_INVALID'), await indexKeys(values));
  if (!result.ok) {
    if (values.json) io.out(JSON.stringify(result, null, 2));
    else io.err(`REFUSED ${positionals[0]}: ${result.code}: ${result.reason}`);
    return EXIT_REFUSED;
  }
  const packs = Object.entries(result.index.packs).map(([name, versions]) => `${name}: ${versions.map((v) => v.version).join(', ')}`);
  report(io, values.json, { ok: true, serial: result.index.serial, keyId: result.index.keyId, packs: result.index.packs }, [
    `OK index serial ${result.index.serial} signed by ${result.index.keyId}`,
    ...packs,
  ]);
  return EXIT_OK;
}

async function resolve(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      key: { type: 'string' },
      trust: { type: 'string' },
      current: { type: 'string' },
      range: { type: 'string' },
      'allow-downgrade': { type: 'boolean', default: false },
    },
    { min: 2, max: 2 },
  );
  const verified = verifyPackIndex(await readJson(positionals[0], 'SONDE_ERR_INDEX_INVALID'), await indexKeys(values));
  if (!verified.ok) throw new RegistryError(verified.code, verified.reason);
  const result = resolveUpdate(verified.index, positionals[1], values.current, values.range ?? '*', {
    allowDowngrade: values['allow-downgrade'],
  });
  if (!result.ok) {
    if (values.json) io.out(JSON.stringify(result, null, 2));
    else io.err(`REFUSED: ${result.code}: ${result.reason}`);
    return EXIT_REFUSED;
  }
  report(io, values.json, { ...result }, [
    `${result.action} ${positionals[1]} → ${result.version} (${result.integrity ?? 'no integrity'})`,
  ]);
  return EXIT_OK;
}

const sub: Record<string, (argv: string[], io: Io) => Promise<number>> = { create, sign, verify, resolve };

export const indexCommand: Command = {
  name: 'index',
  summary: 'create, sign, verify and query the signed pack index',
  usage: [
    'index create <pack dir|tgz>... --out FILE --trust FILE [--organisation NAME]   add verified packs (serial + 1)',
    'index sign FILE --key ORG_KEY [--out FILE]',
    'index verify FILE (--key ORG_PUBLIC_KEY | --trust FILE)',
    'index resolve FILE NAME (--key … | --trust …) [--current VERSION] [--range RANGE] [--allow-downgrade]',
  ].join('\n  '),
  async run(argv, io) {
    const [name, ...rest] = argv;
    const handler = name === undefined ? undefined : sub[name];
    if (!handler) throw new UsageError(`index needs one of: ${Object.keys(sub).join(', ')}`);
    return handler(rest, io);
  },
};
