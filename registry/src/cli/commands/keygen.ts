import { newKeyFile, publicPart, writeKeyFile } from '../../crypto/keys.js';
import { writeFile } from 'node:fs/promises';
import { EXIT_OK, parse, report, required, type Command } from '../output.js';

export function publicKeyPath(secretPath: string): string {
  return secretPath.endsWith('.json') ? `${secretPath.slice(0, -'.json'.length)}.pub.json` : `${secretPath}.pub.json`;
}

export const keygen: Command = {
  name: 'keygen',
  summary: 'create an Ed25519 publisher key',
  usage: 'keygen --out FILE [--publisher NAME]   writes FILE (secret, mode 0600) and FILE.pub.json (public, for trust stores)',
  async run(argv, io) {
    const { values } = parse(argv, { out: { type: 'string' }, publisher: { type: 'string' } }, { min: 0, max: 0 });
    const out = required(values.out, '--out');
    const key = newKeyFile(values.publisher ? { publisher: values.publisher } : {});
    await writeKeyFile(out, key);
    const pubPath = publicKeyPath(out);
    await writeFile(pubPath, `${JSON.stringify(publicPart(key), null, 2)}\n`);
    report(io, values.json, { ok: true, keyId: key.keyId, publicKey: key.publicKey, secretKeyFile: out, publicKeyFile: pubPath }, [
      `key ${key.keyId} written to ${out} (keep it secret)`,
      `public key: ${pubPath}`,
    ]);
    return EXIT_OK;
  },
};
