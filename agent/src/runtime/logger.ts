import type { Logger, pino as Pino } from 'pino';
import { requireCjs } from '../cjs.js';

const { pino } = requireCjs('pino') as { pino: typeof Pino };

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/**
 * `--json-logs`: one pino JSON object per line (for journald/log shippers).
 * Otherwise a short human line per event on stdout, same fields.
 */
export function createLogger(options: { json: boolean; level: string }): Logger {
  if (options.json) return pino({ level: options.level, base: { app: 'sonde-agent' } });
  return pino(
    { level: options.level, base: undefined },
    {
      write(line: string): void {
        try {
          const { level, time, msg, ...rest } = JSON.parse(line) as Record<string, unknown>;
          const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
          process.stdout.write(
            `${new Date(time as number).toISOString()} ${LEVEL_NAMES[level as number] ?? String(level)} ${String(msg)}${extra}\n`,
          );
        } catch {
          process.stdout.write(line);
        }
      },
    },
  );
}
