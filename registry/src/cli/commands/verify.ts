import { verifyPack } from '../../pack/verify.js';
import { loadTrustFile } from '../../trust/trust.js';
import { EXIT_OK, EXIT_REFUSED, parse, report, required, type Command } from '../output.js';

export const verify: Command = {
  name: 'verify',
  summary: 'verify a pack folder or tarball against a trust store, offline',
  usage: 'verify <pack dir|tgz> --trust FILE [--revocations FILE]',
  async run(argv, io) {
    const { values, positionals } = parse(argv, { trust: { type: 'string' }, revocations: { type: 'string' } }, { min: 1, max: 1 });
    const trust = await loadTrustFile(required(values.trust, '--trust'), values.revocations ? { revocationsPath: values.revocations } : {});
    const result = await verifyPack(positionals[0], trust);
    if (!result.ok) {
      if (values.json) io.out(JSON.stringify(result, null, 2));
      else io.err(`REFUSED ${positionals[0]}: ${result.code}: ${result.reason}`);
      return EXIT_REFUSED;
    }
    const { manifest, ...summary } = result;
    report(io, values.json, { ...summary, permissions: manifest.permissions }, [
      `OK ${result.packageName}@${result.version} (pack ${result.pack}), signed by ${result.publisher ?? 'key'} ${result.keyId} at ${result.publishedAt}`,
      `integrity ${result.integrity}; admitted by ${result.via}; ${result.files} files`,
    ]);
    return EXIT_OK;
  },
};
