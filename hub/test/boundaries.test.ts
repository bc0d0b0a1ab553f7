import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const SCRIPT = path.resolve(import.meta.dirname, '../../scripts/check-boundaries.mjs');
const tmp = tempDir('sonde-boundaries-');
afterAll(() => tmp.cleanup());

/** Runs the real boundary check on a tree of files (path → source) and returns its exit code and output. */
function check(name: string, files: Record<string, string>): { code: number | null; output: string } {
  const root = path.join(tmp.dir, name);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  const run = spawnSync(process.execPath, [SCRIPT, '--root', root], { encoding: 'utf8' });
  return { code: run.status, output: run.stdout + run.stderr };
}

describe('the store boundary (scripts/check-boundaries.mjs)', () => {
  it('lets hub/src/store/ use SQLite and everything else use the interface', () => {
    const result = check('clean', {
      'hub/src/store/sqlite/index.ts': "import Database from 'better-sqlite3';\n",
      'hub/src/store/postgres/index.ts': "import pg from 'pg';\n",
      'hub/src/store/open.ts': "import { openSqliteStore } from './sqlite/index.js';\n",
      'hub/src/core.ts': "import { openHubStore } from './store/open.js';\nimport type { HubStore } from './store/types.js';\n",
      'hub/test/x.test.ts': "import { openStoreBackdoor } from '../src/store/testing.js';\n",
    });
    expect(result).toEqual({ code: 0, output: 'boundaries: ok\n' });
  });

  it('fails an import of better-sqlite3, pg, store/sqlite or store/postgres from anywhere else in the hub, tests included', () => {
    const result = check('violations', {
      'hub/src/audit/audit-log.ts': "import { GENESIS_HASH } from '../store/sqlite/audit.js';\n",
      'hub/src/core.ts': "import { openSqliteStore } from './store/sqlite/index.js';\n",
      'hub/test/raw.test.ts': "import Database from 'better-sqlite3';\n",
      'hub/test/raw-pg.test.ts': "import pg from 'pg';\n",
      'hub/src/fleet/x.ts': "import { openPostgresStore } from '../store/postgres/index.js';\n",
      // Split so this file's own text is no dynamic import for the check to find.
      'hub/test/gateway/other.test.ts': `const { Database } = await ${'import'}('../../src/store/sqlite/driver.js');\n`,
    });
    expect(result.code).toBe(1);
    expect(result.output).toContain('Boundary violations (6)');
    expect(result.output).toContain('hub/test/raw-pg.test.ts: imports pg (only hub/src/store/ may use the PostgreSQL driver');
    expect(result.output).toContain('hub/src/fleet/x.ts: imports ../store/postgres/index.js');
    expect(result.output).toContain('hub/src/audit/audit-log.ts: imports ../store/sqlite/audit.js');
    expect(result.output).toContain('hub/src/core.ts: imports ./store/sqlite/index.js');
    expect(result.output).toContain('hub/test/raw.test.ts: imports better-sqlite3 (only hub/src/store/ may use the SQLite driver');
    expect(result.output).toContain('hub/test/gateway/other.test.ts: imports ../../src/store/sqlite/driver.js');
  });

  it('keeps hub/src/store/rows/ backend-neutral: both backends import it, it imports no driver and no backend', () => {
    const clean = check('rows-clean', {
      'hub/src/store/rows/audit.ts':
        "import { canonicalParams } from '../../audit/chain-text.js';\nimport type { AuditRecord } from '../../services.js';\n",
      'hub/src/store/sqlite/audit.ts': "import Database from 'better-sqlite3';\nimport { toAuditRecord } from '../rows/index.js';\n",
      'hub/src/store/postgres/audit.ts': "import pg from 'pg';\nimport { toAuditRecord } from '../rows/index.js';\n",
    });
    expect(clean).toEqual({ code: 0, output: 'boundaries: ok\n' });
    const dirty = check('rows-dirty', {
      'hub/src/store/rows/agents.ts': "import Database from 'better-sqlite3';\n",
      'hub/src/store/rows/keys.ts': "import type { QueryResult } from 'pg';\n",
      'hub/src/store/rows/audit.ts': "import { decodeText } from '../postgres/db.js';\n",
      'hub/src/store/rows/users.ts': "import type { Sync } from '../sqlite/sync.js';\n",
    });
    expect(dirty.code).toBe(1);
    expect(dirty.output).toContain('Boundary violations (4)');
    for (const line of [
      'hub/src/store/rows/agents.ts: imports better-sqlite3',
      'hub/src/store/rows/keys.ts: imports pg',
      'hub/src/store/rows/audit.ts: imports ../postgres/db.js',
      'hub/src/store/rows/users.ts: imports ../sqlite/sync.js',
    ])
      expect(dirty.output).toContain(`${line} (hub/src/store/rows/ is shared by every store backend`);
  });
});

describe('import cycles in the hub (scripts/check-boundaries.mjs)', () => {
  it('fails a cycle through type-only imports, and names its modules', () => {
    const result = check('cycle', {
      'hub/src/mcp/context.ts': "import type { Source } from './integration-tools.js';\nexport interface Ctx { s: Source }\n",
      'hub/src/mcp/integration-tools.ts': "import type { Ctx } from './context.js';\nexport interface Source { c?: Ctx }\n",
      'hub/src/mcp/leaf.ts': "import type { Ctx } from './context.js';\n",
    });
    expect(result.code).toBe(1);
    expect(result.output).toContain('Boundary violations (1)');
    expect(result.output).toContain('import cycle in the hub: hub/src/mcp/context.ts <-> hub/src/mcp/integration-tools.ts');
  });

  it('follows folder imports (index.ts) and self-imports', () => {
    const result = check('cycle-index', {
      'hub/src/integrations/index.ts': "export { Service } from './service.js';\n",
      'hub/src/integrations/service.ts': "import { codes } from './index.js';\nexport class Service {}\n",
      'hub/src/routes/self.ts': "export { x } from './self.js';\n",
    });
    expect(result.code).toBe(1);
    expect(result.output).toContain('Boundary violations (2)');
    expect(result.output).toContain('hub/src/integrations/index.ts <-> hub/src/integrations/service.ts');
    expect(result.output).toContain('import cycle in the hub: hub/src/routes/self.ts');
  });

  it('passes shared types in a module of their own, and tests importing each other', () => {
    const result = check('acyclic', {
      'hub/src/mcp/types.ts': 'export interface Source { n: number }\n',
      'hub/src/mcp/context.ts': "import type { Source } from './types.js';\n",
      'hub/src/mcp/integration-tools.ts': "import type { Source } from './types.js';\nimport './context.js';\n",
      'hub/test/a.test.ts': "import './b.js';\n",
      'hub/test/b.ts': "import './a.test.js';\n",
    });
    expect(result).toEqual({ code: 0, output: 'boundaries: ok\n' });
  });

  it('fails a cycle inside hub/src/store/ too (no exemption since the schema moved to store/rows/)', () => {
    const result = check('store-cycle', {
      'hub/src/store/sqlite/migrations/index.ts': "import { m1 } from './001.js';\n",
      'hub/src/store/sqlite/migrations/001.ts': "import type { Migration } from './index.js';\n",
    });
    expect(result.code).toBe(1);
    expect(result.output).toContain(
      'import cycle in the hub: hub/src/store/sqlite/migrations/001.ts <-> hub/src/store/sqlite/migrations/index.ts',
    );
  });
});
