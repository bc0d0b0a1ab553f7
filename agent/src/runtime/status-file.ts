import { existsSync } from 'node:fs';
import { z } from 'zod';
import { AuditEntrySchema, type AuditEntry } from '../audit/ring.js';
import { readJsonFile, writePrivateFile } from '../home.js';

/** What the running agent publishes for `sonde status` (0600, in SONDE_HOME). */
export const RuntimeStatusSchema = z
  .object({
    pid: z.number().int(),
    startedAt: z.string(),
    updatedAt: z.string(),
    running: z.boolean(),
    connected: z.boolean(),
    registered: z.boolean(),
    lastRegisteredAt: z.string().optional(),
    lastError: z.string().optional(),
    connects: z.number().int(),
    rejectedFrames: z.number().int(),
    isolation: z.string(),
    packs: z.array(z.object({ name: z.string(), version: z.string(), state: z.string(), reason: z.string().optional() })),
  })
  .strict();

export type RuntimeStatus = z.infer<typeof RuntimeStatusSchema>;

export function writeStatus(file: string, status: RuntimeStatus): void {
  writePrivateFile(file, `${JSON.stringify(status, null, 2)}\n`);
}

/** The status file if it was written by a process that is still alive. */
export function readLiveStatus(file: string): { status: RuntimeStatus; alive: boolean } | undefined {
  if (!existsSync(file)) return undefined;
  const parsed = RuntimeStatusSchema.safeParse(readJsonFile(file));
  if (!parsed.success) return undefined;
  let alive = false;
  if (parsed.data.running) {
    try {
      process.kill(parsed.data.pid, 0);
      alive = true;
    } catch (error) {
      alive = (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  return { status: parsed.data, alive };
}

export const AuditFileSchema = z.object({ pid: z.number().int(), updatedAt: z.string(), entries: z.array(AuditEntrySchema) }).strict();

export function writeAuditFile(file: string, entries: AuditEntry[]): void {
  writePrivateFile(file, `${JSON.stringify({ pid: process.pid, updatedAt: new Date().toISOString(), entries })}\n`);
}
