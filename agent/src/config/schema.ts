import { z } from 'zod';
import { SandboxLimitsSchema } from '@sonde/pack-sdk/sandbox';

export const AgentConfigSchema = z
  .object({
    /** Hub base URL (set by enroll). */
    hubUrl: z.string().url().optional(),
    /**
     * Multi-hub: more hubs of the same deployment (base URLs such as `https://hub2.example.com:3000`, or their
     * `wss://…/ws/agent`). The agent starts with the hub it enrolled with and, whenever its connection drops or
     * the hub drains, tries the next one in turn. Not needed behind one load-balanced URL.
     */
    hubUrls: z
      .array(
        z
          .string()
          .url()
          .regex(/^(https?|wss?):\/\//, 'must be an http(s) or ws(s) URL'),
      )
      .max(16)
      .optional(),
    /** Agent name (set by enroll; defaults to the host name). */
    name: z.string().optional(),
    /** Probes that may run at the same time. */
    maxConcurrency: z.number().int().min(1).max(256).default(4),
    /** Requests waiting for a slot; beyond this the agent answers `error` SONDE_ERR_BUSY. */
    maxQueue: z.number().int().min(0).max(10_000).default(64),
    /** Where packs are installed (an npm prefix). Default SONDE_HOME/packs. */
    packsDir: z.string().optional(),
    /** Entries kept in the in-memory audit ring. */
    auditSize: z.number().int().min(10).max(100_000).default(1000),
    /** Extra secret patterns (regular expression sources) the scrubber redacts, on top of its defaults. */
    scrubber: z
      .object({ customPatterns: z.array(z.string().min(1).max(512)).max(100).default([]) })
      .strict()
      .default({ customPatterns: [] }),
    /**
     * How packs run. `process` (default): each pack in its own sandboxed process, every effect brokered by the
     * agent (pack-sdk/src/sandbox/README.md). `in-process`: inside the agent through the permission-checked context
     * only (no protection against a pack that bypasses its context).
     */
    sandbox: z
      .object({
        mode: z.enum(['in-process', 'process']).default('process'),
        /** `auto`: user, PID and network namespaces where the kernel allows; `none`: Node's permission model alone. */
        namespaces: z.enum(['auto', 'none']).default('auto'),
        /** Node binary for pack processes (default: the agent's own). */
        nodePath: z.string().optional(),
        limits: SandboxLimitsSchema.partial().optional(),
      })
      .strict()
      .default({ mode: 'process', namespaces: 'auto' }),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
    /** Reconnect backoff bounds (ms); the security model fixes 1 s → 60 s, tests may shorten them. */
    reconnect: z
      .object({ initialMs: z.number().int().min(10).default(1000), maxMs: z.number().int().min(100).default(60_000) })
      .strict()
      .default({ initialMs: 1000, maxMs: 60_000 }),
  })
  .strict();

export type AgentConfig = z.infer<typeof AgentConfigSchema>;
export type AgentConfigInput = z.input<typeof AgentConfigSchema>;
