import { readPublicKeyFile } from '../../crypto/keys.js';
import { RegistryError } from '../../errors.js';
import { TrustStoreSchema, type TrustStore } from '../../trust/schema.js';
import { addTrustedKey } from '../../trust/edit.js';
import { Trust } from '../../trust/trust.js';
import { readJson, writeJson } from '../files.js';
import { EXIT_OK, UsageError, parse, parseDate, report, required, type Command, type Io } from '../output.js';
import { didYouMean } from '../args.js';

async function load(path: string): Promise<TrustStore> {
  const parsed = TrustStoreSchema.safeParse(await readJson(path, 'SONDE_ERR_TRUST_INVALID'));
  if (!parsed.success) throw new RegistryError('SONDE_ERR_TRUST_INVALID', `${path} is not a trust store`);
  return parsed.data;
}

async function save(path: string, store: TrustStore): Promise<void> {
  new Trust(store); // refuse to write a store that would not load
  await writeJson(path, store);
}

async function init(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { out: { type: 'string' } }, { min: 0, max: 0 });
  const out = required(values.out, '--out');
  if ((await readJson(out, 'SONDE_ERR_TRUST_INVALID', true)) !== undefined) throw new UsageError(`${out} already exists`);
  await save(out, TrustStoreSchema.parse({ type: 'sonde-trust-store' }));
  report(io, values.json, { ok: true, file: out }, [`empty trust store written to ${out}`]);
  return EXIT_OK;
}

async function addKey(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      key: { type: 'string' },
      role: { type: 'string', default: 'publisher' },
      allow: { type: 'string', multiple: true },
      'not-before': { type: 'string' },
      'not-after': { type: 'string' },
    },
    { min: 1, max: 1 },
  );
  const file = positionals[0];
  const store = await load(file);
  const key = await readPublicKeyFile(required(values.key, '--key'));
  const role = values.role;
  if (role !== 'publisher' && role !== 'hub' && role !== 'index') throw new UsageError('--role is publisher, hub or index');
  const notBefore = parseDate(values['not-before'], '--not-before');
  const notAfter = parseDate(values['not-after'], '--not-after');
  const next = addTrustedKey(store, key, { role, allow: values.allow ?? [], notBefore, notAfter });
  await save(file, next);
  report(io, values.json, { ok: true, file, keyId: key.keyId, role }, [`${role} key ${key.keyId} added to ${file}`]);
  return EXIT_OK;
}

const sub: Record<string, (argv: string[], io: Io) => Promise<number>> = { init, 'add-key': addKey };

export const trustCommand: Command = {
  name: 'trust',
  summary: 'create and edit a trust store file',
  usage: [
    'trust init --out FILE',
    'trust add-key FILE --key PUBLIC_KEY_FILE [--role publisher|hub|index] [--allow PACK_PATTERN]... [--not-before ISO] [--not-after ISO]',
  ].join('\n  '),
  async run(argv, io) {
    const [name, ...rest] = argv;
    const handler = name === undefined ? undefined : sub[name];
    if (!handler)
      throw new UsageError(
        `${name === undefined ? 'trust needs' : `unknown trust command ${name}${didYouMean(name, Object.keys(sub))}; use`} one of: ${Object.keys(sub).join(', ')}`,
      );
    return handler(rest, io);
  },
};
