#!/usr/bin/env node
// Committed launcher for the `sonde-hub` bin. npm links bins at install time, before `npm run build` writes dist/,
// so a bin pointing into dist/ is never linked in a fresh clone; this file always exists and loads the build.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli.js', import.meta.url);
if (existsSync(entry)) {
  await import(entry.href);
} else {
  process.stderr.write('sonde-hub: not built yet. Run `npm run build` at the repository root first.\n');
  process.exitCode = 1;
}
