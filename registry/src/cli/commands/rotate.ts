import { readKeyFile, readPublicKeyFile } from '../../crypto/keys.js';
import { createRotationStatement } from '../../trust/rotation.js';
import { writeJson } from '../files.js';
import { EXIT_OK, parse, parseDate, report, required, type Command } from '../output.js';

export const rotate: Command = {
  name: 'rotate',
  summary: 'hand over from an old publisher key to a new one (signed by the old key)',
  usage: 'rotate --old OLD_KEY --new NEW_PUBLIC_KEY --out FILE [--not-after ISO] [--retire-at ISO]   add FILE to the trust store rotations',
  async run(argv, io) {
    const { values } = parse(
      argv,
      {
        old: { type: 'string' },
        new: { type: 'string' },
        out: { type: 'string' },
        'not-after': { type: 'string' },
        'retire-at': { type: 'string' },
      },
      { min: 0, max: 0 },
    );
    const oldKey = await readKeyFile(required(values.old, '--old'));
    const newKey = await readPublicKeyFile(required(values.new, '--new'));
    const notAfter = parseDate(values['not-after'], '--not-after');
    const retireFromAt = parseDate(values['retire-at'], '--retire-at');
    const statement = createRotationStatement(oldKey, newKey, {
      ...(notAfter ? { notAfter } : {}),
      ...(retireFromAt ? { retireFromAt } : {}),
    });
    const out = required(values.out, '--out');
    await writeJson(out, statement);
    report(io, values.json, { ok: true, file: out, statement }, [`rotation ${statement.from} → ${statement.to.keyId} written to ${out}`]);
    return EXIT_OK;
  },
};
