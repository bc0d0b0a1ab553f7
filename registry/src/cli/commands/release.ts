import { stat } from 'node:fs/promises';
import { readKeyFile } from '../../crypto/keys.js';
import { signReleaseTarball, verifyReleaseDir, verifyReleaseTarball } from '../../release/release.js';
import { loadTrustFile } from '../../trust/trust.js';
import { EXIT_OK, EXIT_REFUSED, UsageError, parse, parseDate, report, required, type Command } from '../output.js';

export const signRelease: Command = {
  name: 'sign-release',
  summary: 'sign a program release (e.g. @sonde/agent) packed with npm pack; adds package/sonde-release-signature.json',
  usage: 'sign-release <tgz> --key FILE [--published-at ISO] [--out FILE.tgz]',
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
    if (!info?.isFile()) throw new UsageError(`${target} is not a tarball: run npm pack first, then sign what you publish`);
    const result = await signReleaseTarball(target, key, {
      ...(publishedAt ? { publishedAt } : {}),
      ...(values.out ? { out: values.out } : {}),
    });
    const { statement } = result.signature;
    report(
      io,
      values.json,
      {
        ok: true,
        package: statement.package.name,
        version: statement.package.version,
        keyId: statement.keyId,
        publishedAt: statement.publishedAt,
        integrity: result.integrity,
        files: result.files,
        written: values.out ?? target,
      },
      [
        `signed release ${statement.package.name}@${statement.package.version} (${result.files} files) with key ${statement.keyId}`,
        `integrity ${result.integrity}`,
      ],
    );
    return EXIT_OK;
  },
};

export const verifyRelease: Command = {
  name: 'verify-release',
  summary: 'verify a signed release tarball or unpacked release folder against a trust store, offline',
  usage: 'verify-release <tgz|dir> --trust FILE [--revocations FILE] [--name PACKAGE]',
  async run(argv, io) {
    const { values, positionals } = parse(
      argv,
      { trust: { type: 'string' }, revocations: { type: 'string' }, name: { type: 'string' } },
      { min: 1, max: 1 },
    );
    const trust = await loadTrustFile(required(values.trust, '--trust'), values.revocations ? { revocationsPath: values.revocations } : {});
    const target = positionals[0];
    const info = await stat(target).catch(() => undefined);
    if (info === undefined) throw new UsageError(`${target} does not exist`);
    const options = values.name ? { expectedName: values.name } : {};
    const result = info.isDirectory() ? await verifyReleaseDir(target, trust, options) : await verifyReleaseTarball(target, trust, options);
    if (!result.ok) {
      if (values.json) io.out(JSON.stringify(result, null, 2));
      else io.err(`REFUSED ${target}: ${result.code}: ${result.reason}`);
      return EXIT_REFUSED;
    }
    report(io, values.json, { ...result }, [
      `OK release ${result.packageName}@${result.version}, signed by ${result.publisher ?? 'key'} ${result.keyId} at ${result.publishedAt}`,
      `integrity ${result.integrity}; admitted by ${result.via}; ${result.files} files${result.bundled ? ' (dependencies bundled)' : ''}`,
    ]);
    return EXIT_OK;
  },
};
