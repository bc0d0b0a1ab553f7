#!/usr/bin/env node
import nodeModule from 'node:module';
import { enablePrivateCompileCache } from './compile-cache.js';

// Node 22.1+ keeps compiled module code on disk between runs, so a restart compiles less (the hub loads
// Fastify, zod, pino, ws, SQLite's binding and its own modules before it answers); Node 20 skips this.
// Enabled before anything else is imported, so the whole graph goes through the cache; in a private
// folder (compile-cache.ts says why not Node's default one under /tmp). `npm run build` bundles this entry into
// dist/cli.js (hub/scripts/bundle.mjs): this file stays small, and program.js and what it imports become chunks that
// are compiled after the cache is on.
const { enableCompileCache } = nodeModule as { enableCompileCache?: (dir: string) => unknown };
enablePrivateCompileCache(enableCompileCache?.bind(nodeModule));
await import('./program.js');
