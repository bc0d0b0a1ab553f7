import type { Level } from '../params.js';

/** Parser for `nginx -t` output (stderr): result lines and logged messages with file:line. */

export interface ConfigMessage {
  level: Level;
  message: string;
  file: string | null;
  line: number | null;
}

export interface ConfigTest {
  ok: boolean;
  syntaxOk: boolean;
  configFile: string | null;
  messages: ConfigMessage[];
}

// "2026/11/24 00:29:02 [emerg] 9098#9098: msg" once the error log is open, "nginx: [emerg] msg" before that.
const LOGGED = /^(?:\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[(\w+)\] \d+#\d+: |nginx: \[(\w+)\] )(.*)$/;
const LOCATION = /^(.*) in (\/[^\s]*?):(\d+)$/;

export function parseConfigTest(output: string): ConfigTest {
  const messages: ConfigMessage[] = [];
  let syntaxOk = false;
  let success = false;
  let configFile: string | null = null;
  for (const raw of output.split('\n')) {
    const line = raw.trimEnd();
    const syntax = /^nginx: the configuration file (\S+) syntax is ok$/.exec(line);
    if (syntax) {
      syntaxOk = true;
      configFile = syntax[1]!;
      continue;
    }
    const result = /^nginx: configuration file (\S+) test (is successful|failed)$/.exec(line);
    if (result) {
      configFile ??= result[1];
      success = result[2] === 'is successful';
      continue;
    }
    const logged = LOGGED.exec(line);
    if (!logged) continue;
    const text = logged[3];
    const where = LOCATION.exec(text);
    messages.push({
      level: (logged[1] ?? logged[2]) as Level,
      message: where ? where[1] : text,
      file: where ? where[2] : null,
      line: where ? Number(where[3]) : null,
    });
  }
  return { ok: success, syntaxOk, configFile, messages };
}
