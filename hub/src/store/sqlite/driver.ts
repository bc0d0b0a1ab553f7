import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

const require = createRequire(import.meta.url);
const nodeMajor = Number(process.versions.node.split('.')[0]);

/**
 * better-sqlite3 12 builds its Database and Statement on node::ObjectWrap. From
 * Node 24.19 that wrapper's destructor aborts the whole process when the
 * garbage collector finalises a statement outside a JS context (SIGABRT,
 * "Assertion failed: (env) != nullptr"; WiseLibs/better-sqlite3#1515). Version
 * 13 moved to node-addon-api and is safe, but needs Node 22+, while 12 is the
 * line that loads on Node 20. Both have the same API, so pick by runtime.
 */
const DRIVER_PACKAGE = nodeMajor >= 22 ? 'better-sqlite3-node22' : 'better-sqlite3';

/** The resolved path of the driver this process loads, for worker threads that open the same database. */
export const DRIVER_MODULE_PATH = require.resolve(DRIVER_PACKAGE);

export const Database: typeof BetterSqlite3 = require(DRIVER_PACKAGE) as typeof BetterSqlite3;
export type Database = BetterSqlite3.Database;
