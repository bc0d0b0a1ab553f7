#!/usr/bin/env node
import nodeModule from 'node:module';

// Node 22.1+ keeps compiled module code on disk between runs, so a restart compiles less (the hub loads
// Fastify, zod, pino, ws, SQLite's binding and its own modules before it answers); Node 20 skips this.
// Enabled before anything else is imported, so the whole graph goes through the cache.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
await import('./program.js');
