import { z } from 'zod';

/** systemd unit names (with type suffix): letters, digits and `:_.@-`; never starts with a dash. */
export const UnitParam = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9_][A-Za-z0-9:_.@-]*$/, 'a systemd unit name such as nginx.service');
