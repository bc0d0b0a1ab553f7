#!/usr/bin/env node
/**
 * `sonde`'s entry (the bin launcher, the systemd units and the release layout all run dist/cli.js). It runs the
 * bundled build of the CLI, dist/sonde/main.js (agent/scripts/bundle.mjs: the agent, @sonde/pack-sdk, @sonde/registry
 * and their dependencies in ~20 files, so a start reads a handful instead of resolving and compiling ~400), and
 * falls back to the per-module build (./main.js) when there is no bundle or when a TypeScript build is newer than it
 * (a checkout rebuilt with `tsc -b` alone: the bundle would run old code). Both are built from the same sources.
 * Only node:fs is loaded here; main.ts refuses root before anything else.
 */
import { statSync } from 'node:fs';

const mtime = (relative: string): number | undefined => statSync(new URL(relative, import.meta.url), { throwIfNoEntry: false })?.mtimeMs;

const bundle = mtime('./sonde/main.js');
// The agent's own TypeScript build and, in a source checkout, those of the workspaces the bundle inlines.
const compiled = ['./.tsbuildinfo', '../../pack-sdk/dist/.tsbuildinfo', '../../registry/dist/.tsbuildinfo'].map(mtime);
const fresh = bundle !== undefined && compiled.every((time) => time === undefined || time <= bundle);
await import(new URL(fresh ? './sonde/main.js' : './main.js', import.meta.url).href);
