import { describe, expect, it } from 'vitest';
import { parseAccessLine, parseTimeLocal, summariseAccess } from '../src/parsers/access-log.js';
import { parseConfigTest } from '../src/parsers/config-test.js';
import { parseErrorLine } from '../src/parsers/error-log.js';
import { parseStubStatus } from '../src/parsers/stub-status.js';
import { parseNginxV } from '../src/parsers/version.js';
import { recorded } from './recorded.js';

describe('nginx -t parser (recorded nginx 1.22.1 output)', () => {
  it('reads a successful test', () => {
    expect(parseConfigTest(recorded('nginx-t-ok.txt'))).toEqual({
      ok: true,
      syntaxOk: true,
      configFile: '/tmp/tmp.iftJmUhRX1/nginx.conf',
      messages: [],
    });
  });

  it('reads an unknown directive with file:line', () => {
    const result = parseConfigTest(recorded('nginx-t-unknown-directive.txt'));
    expect(result).toMatchObject({ ok: false, syntaxOk: false });
    expect(result.messages).toEqual([
      { level: 'emerg', message: 'unknown directive "bogus_directive"', file: '/tmp/tmp.iftJmUhRX1/nginx.conf', line: 4 },
    ]);
  });

  it('reads an invalid value', () => {
    expect(parseConfigTest(recorded('nginx-t-syntax.txt')).messages[0]).toMatchObject({
      level: 'emerg',
      message: 'invalid port in "1.2.3.4:x" of the "listen" directive',
      line: 4,
    });
  });

  it('separates syntax ok from a test that failed for the unprivileged user', () => {
    const result = parseConfigTest(recorded('nginx-t-unprivileged.txt'));
    expect(result).toMatchObject({ ok: false, syntaxOk: true, configFile: '/etc/nginx/nginx.conf' });
    expect(result.messages.map((m) => [m.level, m.file, m.line])).toEqual([
      ['warn', '/etc/nginx/nginx.conf', 1],
      ['emerg', null, null],
    ]);
    expect(
      parseConfigTest('nginx: [alert] could not open error log file: open() "/var/log/nginx/error.log" failed (13: Permission denied)')
        .messages[0],
    ).toMatchObject({
      level: 'alert',
      file: null,
    });
  });
});

describe('nginx -V parser', () => {
  it('reads version, modules and paths', () => {
    const build = parseNginxV(recorded('nginx-V.txt'));
    expect(build.version).toBe('1.22.1');
    expect(build.tlsSni).toBe(true);
    expect(build.modules).toContainEqual({ name: 'http_stub_status_module', dynamic: false });
    expect(build.modules).toContainEqual({ name: 'http_geoip_module', dynamic: true });
    expect(build.modules).toContainEqual({ name: 'stream', dynamic: true });
    expect(build.paths['conf-path']).toBe('/etc/nginx/nginx.conf');
    expect(build.configureArguments).toContain(
      '--with-cc-opt=-g -O2 -ffile-prefix-map=/build/reproducible-path/nginx-1.22.1=. -fstack-protector-strong -Wformat -Werror=format-security -fPIC -Wdate-time -D_FORTIFY_SOURCE=2',
    );
  });
});

describe('access log parser (recorded combined log)', () => {
  it('parses every recorded line, unescaping \\x22 in the user agent', () => {
    const entries = recorded('access.log').trim().split('\n').map(parseAccessLine);
    expect(entries.every(Boolean)).toBe(true);
    expect(entries[1]).toEqual({
      remoteAddr: '127.0.0.1',
      remoteUser: null,
      time: '2026-11-24T00:29:08.000Z',
      method: 'GET',
      path: '/missing?q=1',
      protocol: 'HTTP/1.1',
      request: 'GET /missing?q=1 HTTP/1.1',
      status: 404,
      bytes: 153,
      referrer: 'http://example.test/ref',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) "quoted"',
    });
    const summary = summariseAccess(entries.filter((e) => e !== undefined));
    expect(summary.statusCounts).toEqual({ '200': 3, '404': 1 });
    expect(summary.statusClasses).toEqual({ '1xx': 0, '2xx': 3, '3xx': 0, '4xx': 1, '5xx': 0 });
  });

  it('handles garbage requests, offsets and non-combined lines', () => {
    expect(parseAccessLine('10.0.0.9 - - [01/Jan/2026:10:00:00 +0200] "\\x16\\x03\\x01" 400 157 "-" "-"')).toMatchObject({
      method: null,
      status: 400,
      time: '2026-01-01T08:00:00.000Z',
    });
    expect(parseAccessLine('not a log line')).toBeUndefined();
    expect(parseTimeLocal('99/Foo/2026:00:00:00 +0000')).toBeNull();
  });
});

describe('error log parser (recorded error log)', () => {
  it('splits message and context fields', () => {
    const entries = recorded('error.log').trim().split('\n').map(parseErrorLine);
    const error = entries.find((e) => e?.level === 'error');
    expect(error).toEqual({
      time: '2026-11-24T00:29:08',
      level: 'error',
      pid: 9124,
      connection: 2,
      message: expect.stringMatching(/^open\(\) ".*\/www\/missing" failed \(2: No such file or directory\)$/),
      client: '127.0.0.1',
      server: null,
      request: 'GET /missing?q=1 HTTP/1.1',
      host: '127.0.0.1:18099',
    });
    expect(entries.filter((e) => e?.level === 'info')).toHaveLength(4);
    expect(parseErrorLine('2026/11/24 00:29:02 [emerg] 9098#9098: unknown directive "x" in /etc/nginx/nginx.conf:4')).toMatchObject({
      connection: null,
      client: null,
    });
  });
});

describe('stub_status parser', () => {
  it('reads the recorded page', () => {
    expect(parseStubStatus(recorded('stub-status.txt'))).toEqual({
      active: 1,
      accepts: 4,
      handled: 4,
      requests: 4,
      reading: 0,
      writing: 1,
      waiting: 0,
    });
    expect(parseStubStatus('<html>404</html>')).toBeUndefined();
  });
});
