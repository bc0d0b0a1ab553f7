import { z } from 'zod';

/** Host names, IPv4 and IPv6 literals; never starts with a dash, so it can never become an option. */
export const HostParam = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?|\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})$/,
    'a host name, IPv4 or IPv6 address',
  )
  .transform((host) => host.replace(/\.$/, ''));

/** systemd unit names: letters, digits and `:_.@-\\`, optional type suffix. */
export const UnitParam = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9_][A-Za-z0-9:_.@-]*$/, 'a systemd unit name such as nginx.service');

/** An absolute, normalised path: no `..` or `.` segments, no control characters. */
export const LogPathParam = z
  .string()
  .max(4096)
  .startsWith('/', 'an absolute path')
  .refine((p) => ![...p].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f), 'no control characters')
  .refine((p) => !p.split('/').some((segment) => segment === '..' || segment === '.') && !p.includes('//'), 'the path must be normalised');
