import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { HubError } from '../../errors.js';
import type { BackupInfo } from '../types.js';
import type { Database } from './driver.js';

/**
 * An online, consistent copy of the database with `VACUUM INTO`: one read
 * transaction sees a single point in time of every table while the hub keeps
 * writing (WAL: readers and the writer do not block each other), and the copy
 * is a compact database file with no WAL to carry along. It runs on the
 * calling thread (better-sqlite3 is synchronous): `sonde-hub backup` runs it
 * in its own process, so the serving hub's event loop is never held.
 * The copy is written under a temporary name, flushed, made 0600 and renamed,
 * so a file at `destination` is always a whole backup.
 */
export function backupDatabase(db: Database, destination: string, schemaVersion: () => number): BackupInfo {
  const file = path.resolve(destination);
  if (existsSync(file)) throw new HubError('SONDE_ERR_VALIDATION', `${file} exists already: a backup never overwrites a file`);
  if (!existsSync(path.dirname(file))) throw new HubError('SONDE_ERR_VALIDATION', `the folder ${path.dirname(file)} does not exist`);
  const partial = `${file}.partial-${process.pid}`;
  rmSync(partial, { force: true });
  try {
    db.prepare('VACUUM INTO ?').run(partial);
    chmodSync(partial, 0o600);
    const fd = openSync(partial, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(partial, file);
    const dir = openSync(path.dirname(file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
  return { file, bytes: statSync(file).size, schemaVersion: schemaVersion() };
}
