import type { z } from 'zod';

/**
 * The message of SONDE_ERR_INVALID_PARAMS. Sonde writes it, from the caller's own parameter names and the
 * probe's schema, so it must survive the output scrubber intact: zod's `Unrecognized key: "password"` has
 * the `name: value` shape the scrubber redacts (it arrived as `Unrecognized key: "[REDACTED]"`). Here a
 * parameter is named after the word `parameter`, never before a colon or `=`, and no value is echoed.
 */
export function describeParamsError(error: z.ZodError): string {
  const parts = error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const names = issue.keys.map((key) => JSON.stringify(key)).join(', ');
      return `unknown parameter${issue.keys.length > 1 ? 's' : ''} ${names}${where(issue.path)}`;
    }
    const at = issue.path.length > 0 ? ` (parameter ${issue.path.map(String).join('.')})` : '';
    return `${issue.message}${at}`;
  });
  return parts.join('; ');
}

function where(path: readonly PropertyKey[]): string {
  return path.length > 0 ? ` in parameter ${path.map(String).join('.')}` : '';
}
