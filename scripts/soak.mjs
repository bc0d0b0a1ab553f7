#!/usr/bin/env node
// The hostile-input suite at soak size, outside CI (issue 25): test/hostile/ with 100,000 agent frames, 100,000 hub
// frames against a real agent and 10,000
// REST and /mcp requests per round (SONDE_FUZZ_FRAMES, SONDE_FUZZ_REQUESTS override), a new seed each round, for
// SONDE_SOAK_MINUTES (default: one round). Each round's seed is printed; a failing round stops the soak with its seed.
//   node scripts/soak.mjs                      one round
//   SONDE_SOAK_MINUTES=60 node scripts/soak.mjs  an hour
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '..');
const minutes = Number(process.env.SONDE_SOAK_MINUTES ?? 0);
const deadline = Date.now() + minutes * 60_000;
let round = 0;
do {
  round += 1;
  const seed = String(Math.floor(Math.random() * 2 ** 31));
  console.log(`soak round ${round}: seed ${seed}`);
  const started = Date.now();
  const result = spawnSync(process.execPath, [path.join(REPO, 'node_modules/vitest/vitest.mjs'), 'run', 'test/hostile/'], {
    cwd: REPO,
    stdio: 'inherit',
    env: {
      ...process.env,
      SONDE_FUZZ_SEED: seed,
      SONDE_FUZZ_FRAMES: process.env.SONDE_FUZZ_FRAMES ?? '100000',
      SONDE_FUZZ_HUB_FRAMES: process.env.SONDE_FUZZ_HUB_FRAMES ?? '100000',
      SONDE_FUZZ_REQUESTS: process.env.SONDE_FUZZ_REQUESTS ?? '10000',
      // The vitest timeouts are sized for CI; a soak round runs for many minutes.
      SONDE_FUZZ_TIMEOUT_MS: String(4 * 3600_000),
    },
  });
  console.log(`soak round ${round}: exit ${result.status} after ${Math.round((Date.now() - started) / 1000)} s`);
  if (result.status !== 0) {
    console.error(`soak failed in round ${round}: replay with SONDE_FUZZ_SEED=${seed}`);
    process.exit(1);
  }
} while (Date.now() < deadline);
