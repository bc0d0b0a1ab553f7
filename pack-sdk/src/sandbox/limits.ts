import { z } from 'zod';

/** Per-pack limits of the sandbox runner; every field has a default an operator may lower or raise. */
export const SandboxLimitsSchema = z
  .object({
    /** V8 old-space cap of the pack process (`--max-old-space-size`). */
    maxHeapMb: z.number().int().min(16).max(16_384).default(128),
    /** Resident memory at which the agent kills the pack process (heap, buffers and code together). */
    maxRssMb: z.number().int().min(32).max(65_536).default(512),
    /** CPU time one probe call may use, read from /proc by the agent. */
    cpuMs: z.number().int().positive().default(10_000),
    /** Past its time limit a probe gets this long to answer before its process is killed. */
    graceMs: z.number().int().nonnegative().default(500),
    /**
     * Largest result (one frame) the pack process may send: what the agent agrees to hold in memory. The
     * executor still truncates a result to the wire frame budget afterwards, as it does for in-process packs.
     */
    maxOutputBytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(8 * 1024 * 1024),
    /**
     * A pack process that ran no probe for this long is stopped, and the next probe starts it again (about
     * 120 ms here). Idle hosts then carry the agent alone instead of one process per pack. 0 keeps them up.
     */
    idleStopMs: z.number().int().nonnegative().default(120_000),
    /** Time from spawn to the pack being loaded. */
    startTimeoutMs: z.number().int().positive().default(15_000),
    /** Limit trips within `tripWindowMs` that quarantine the pack. */
    maxTrips: z.number().int().positive().default(3),
    tripWindowMs: z
      .number()
      .int()
      .positive()
      .default(10 * 60_000),
  })
  .strict();

export type SandboxLimits = z.infer<typeof SandboxLimitsSchema>;
export type SandboxLimitsInput = z.input<typeof SandboxLimitsSchema>;

export type LimitReason = 'wall-time' | 'cpu' | 'memory' | 'output' | 'crash' | 'protocol';
