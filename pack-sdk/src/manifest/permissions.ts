import { z } from 'zod';

/**
 * Argument placeholders a command shape may use. Each matches one whole argv
 * element (or the part of it after a literal prefix such as `--lines=`), so a
 * parameter can never add, split or reorder arguments.
 */
export const ARG_PLACEHOLDERS = {
  '<int>': /^-?\d{1,15}$/,
  '<uint>': /^\d{1,15}$/,
  '<name>': /^[A-Za-z0-9_][A-Za-z0-9_.@:+=-]{0,254}$/,
  '<host>': /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*|\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]{2,39})$/,
  '<path>': /^\/[^\0]{0,4095}$/,
  '<text>': /^(?!-)[^\0]{0,4096}$/,
} as const;

export type ArgPlaceholder = keyof typeof ARG_PLACEHOLDERS;

const binaryName = z
  .string()
  .regex(/^(?:\/[A-Za-z0-9._+/-]+|[A-Za-z0-9._+-]+)$/, 'a binary is a bare name (looked up in the system PATH) or an absolute path');

export const CommandPermissionSchema = z
  .object({
    binary: binaryName.describe('Executable the pack may run with execFile (never through a shell).'),
    args: z
      .array(z.array(z.string().max(256)).max(64))
      .min(1)
      .describe(
        'Allowed argv shapes. Each element is a literal or contains one placeholder such as <int>, <name>, <host>, <path>, <text>.',
      ),
    description: z.string().max(300).optional(),
  })
  .strict();

export const NetworkPermissionSchema = z
  .object({
    host: z.string().min(1).max(253).describe('Host name or address, or "{endpoint}" for the configured integration endpoint.'),
    port: z.number().int().min(1).max(65535).optional(),
    protocol: z.enum(['tcp', 'http', 'https']),
    paths: z.array(z.string().startsWith('/')).optional().describe('HTTP path globs allowed on this endpoint.'),
  })
  .strict();

export const CredentialPermissionSchema = z
  .object({
    name: z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]{0,63}$/),
    description: z.string().max(300),
  })
  .strict();

export const PermissionsSchema = z
  .object({
    commands: z.array(CommandPermissionSchema).default([]),
    files: z
      .array(z.string().startsWith('/', 'file globs must be absolute').max(4096))
      .default([])
      .describe('Absolute path globs the pack may read.'),
    groups: z
      .array(z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/))
      .default([])
      .describe('OS groups the agent user needs.'),
    network: z.array(NetworkPermissionSchema).default([]),
    credentials: z.array(CredentialPermissionSchema).default([]),
  })
  .strict();

export type CommandPermission = z.infer<typeof CommandPermissionSchema>;
export type NetworkPermission = z.infer<typeof NetworkPermissionSchema>;
export type CredentialPermission = z.infer<typeof CredentialPermissionSchema>;
export type Permissions = z.infer<typeof PermissionsSchema>;
export type PermissionsInput = z.input<typeof PermissionsSchema>;
