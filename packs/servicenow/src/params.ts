import { z } from 'zod';

export const IncidentNumber = z.string().regex(/^INC\d{7}$/, 'an incident number such as INC0010001');

function hasControl(value: string): boolean {
  return [...value].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);
}

/**
 * An exact CI name for `name=<value>` in an encoded query. `^` would start a
 * new condition (`^OR`, `^NQ`) and a `javascript:` value is evaluated by the
 * instance, so both are refused; the rest is URL-encoded by URLSearchParams.
 */
export const CiName = z
  .string()
  .min(1)
  .max(255)
  .refine((v) => !v.includes('^'), 'no ^ (it separates encoded-query conditions)')
  .refine((v) => !/javascript\s*:/i.test(v), 'no javascript: values')
  .refine((v) => !hasControl(v), 'no control characters')
  .refine((v) => v.trim() === v, 'no leading or trailing spaces');
