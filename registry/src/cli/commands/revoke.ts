import { readKeyFile } from '../../crypto/keys.js';
import { RegistryError } from '../../errors.js';
import { extendRevocationList, RevocationListSchema, verifyRevocationList, type RevokedPack } from '../../revocation/list.js';
import { readJson, writeJson } from '../files.js';
import { EXIT_OK, UsageError, parse, report, required, type Command } from '../output.js';
import semver from 'semver';

function parsePackSpec(spec: string, reason: string | undefined): RevokedPack {
  // The version part starts at the last '@' that is not the scope's leading one.
  const at = spec.lastIndexOf('@');
  if (at <= 0) throw new UsageError(`--pack ${spec}: write NAME@VERSION or NAME@RANGE`);
  const versions = spec.slice(at + 1);
  if (semver.validRange(versions) === null) throw new UsageError(`--pack ${spec}: ${versions} is not a semver version or range`);
  return { pack: spec.slice(0, at), versions, ...(reason ? { reason } : {}) };
}

export const revoke: Command = {
  name: 'revoke',
  summary: 'add keys or pack versions to the hub-signed revocation list',
  usage: 'revoke --list FILE --key HUB_KEY [--key-id ID]... [--pack NAME@RANGE]... [--reason TEXT]   (creates FILE or raises its serial)',
  async run(argv, io) {
    const { values } = parse(
      argv,
      {
        list: { type: 'string' },
        key: { type: 'string' },
        'key-id': { type: 'string', multiple: true },
        pack: { type: 'string', multiple: true },
        reason: { type: 'string' },
      },
      { min: 0, max: 0 },
    );
    const listPath = required(values.list, '--list');
    const hubKey = await readKeyFile(required(values.key, '--key'));
    const keyIds = values['key-id'] ?? [];
    const packs = (values.pack ?? []).map((spec) => parsePackSpec(spec, values.reason));
    if (keyIds.length === 0 && packs.length === 0) throw new UsageError('name at least one --key-id or --pack to revoke');
    for (const id of keyIds) if (!/^[0-9a-f]{16}$/.test(id)) throw new UsageError(`--key-id ${id}: a key id is 16 lowercase hex digits`);
    const existing = await readJson(listPath, 'SONDE_ERR_REVOCATIONS_INVALID', true);
    let previous;
    if (existing !== undefined) {
      // Only the same hub key may extend a list; anything else would silently fork it.
      const checked = verifyRevocationList(existing, hubKey.publicKey);
      if (!checked.ok) throw new RegistryError(checked.code, `${listPath}: ${checked.reason}`);
      previous = RevocationListSchema.parse(checked.list);
    }
    const list = extendRevocationList(
      previous,
      { keys: keyIds.map((keyId) => ({ keyId, ...(values.reason ? { reason: values.reason } : {}) })), packs },
      hubKey,
    );
    await writeJson(listPath, list);
    report(io, values.json, { ok: true, file: listPath, serial: list.serial, keys: list.keys, packs: list.packs }, [
      `revocation list ${listPath} serial ${list.serial}: ${list.keys.length} keys, ${list.packs.length} pack entries`,
    ]);
    return EXIT_OK;
  },
};
