import type { AgentConfig } from '../config/schema.js';
import { AgentError } from '../errors.js';

/**
 * Interim scrubber with the security model's default rules, used until
 * `@sonde/pack-sdk/scrubber` (createScrubber) lands; the agent then delegates
 * to it. Runs on every result before signing.
 */
export type Scrub = (value: unknown) => unknown;

const REDACTED = '[REDACTED]';
const SECRET_KEY = /secret|key|token|password|passwd|credential|private/i;

const DEFAULT_RULES: Array<{ pattern: RegExp; replace: string | ((...groups: string[]) => string) }> = [
  // KEY=value where the name looks secret (env files, command lines).
  {
    pattern: /\b([A-Za-z0-9_]*(?:secret|key|token|password|passwd|pwd|credential)[A-Za-z0-9_]*)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s"',;&]+)/gi,
    replace: `$1$2${REDACTED}`,
  },
  // scheme://user:password@host
  { pattern: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi, replace: `$1${REDACTED}@` },
  { pattern: /\b(Bearer\s+)[A-Za-z0-9\-._~+/]+=*/g, replace: `$1${REDACTED}` },
  { pattern: /\b(api[_-]?key\s*[=:]\s*)[A-Za-z0-9\-_]{8,}/gi, replace: `$1${REDACTED}` },
];

export function createAgentScrubber(config: AgentConfig): Scrub {
  const custom = config.scrubber.customPatterns.map((source, index) => {
    try {
      return { pattern: new RegExp(source, 'g'), replace: REDACTED };
    } catch (error) {
      throw new AgentError('SONDE_ERR_CONFIG_INVALID', `scrubber.customPatterns[${index}]: ${(error as Error).message}`);
    }
  });
  const rules = [...DEFAULT_RULES, ...custom];
  const scrubString = (text: string): string => rules.reduce((acc, rule) => acc.replace(rule.pattern, rule.replace as string), text);
  const walk = (value: unknown, key?: string): unknown => {
    if (typeof value === 'string') return key && SECRET_KEY.test(key) ? REDACTED : scrubString(value);
    if (Array.isArray(value)) return value.map((item) => walk(item));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, walk(v, k)]));
    }
    return value;
  };
  return (value) => walk(value);
}
