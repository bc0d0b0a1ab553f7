import { fileURLToPath } from 'node:url';

/** The one way the hub is started: tests spawn exactly this, and the Dockerfile/compose must name it too. */
export const HUB_ENTRY = 'hub/dist/cli.js';
/** A 2 MiB young generation: throughput-neutral under MCP load, 115 → 92 MiB idle RSS (bench/README.md, item 8). */
export const HUB_NODE_ARGS = ['--max-semi-space-size=2'];
export const SERVE_ARGS = ['serve'];
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI_PATH = fileURLToPath(new URL(`../../${HUB_ENTRY}`, import.meta.url));
