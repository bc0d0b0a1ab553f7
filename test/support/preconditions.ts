import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What a security test needs from the machine (root, user namespaces, setpriv, a built hub…).
 * Tests skip with `it.skipIf(!pre.holds)` — never a silent `return` — and when the precondition
 * does not hold, the reason is recorded for scripts/run-tests.mjs, which prints it beside the
 * skipped count. CI names the preconditions its machine provides (SONDE_REQUIRE_PRECONDITIONS):
 * a test that skips because one of those "does not hold" fails the run instead of hiding.
 */
export interface Precondition {
  name: string;
  holds: boolean;
  reason: string;
}

const REPO = path.resolve(import.meta.dirname, '../..');

/**
 * @param testFile the calling test's `import.meta.url`
 * @param name a short stable name CI can require (e.g. `root`, `userns`, `setpriv`)
 * @param holds whether the machine provides it
 * @param whyNot one line for the CI log when it does not
 */
export function precondition(testFile: string, name: string, holds: boolean, whyNot: string): Precondition {
  const reason = holds ? '' : whyNot;
  const log = process.env.SONDE_SKIP_LOG;
  if (!holds && log) {
    const file = path.relative(REPO, testFile.startsWith('file:') ? fileURLToPath(testFile) : testFile);
    appendFileSync(log, `${JSON.stringify({ file, name, reason })}\n`);
  }
  return { name, holds, reason };
}
