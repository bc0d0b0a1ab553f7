import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHubCore } from '../../src/core.js';
import { openStoreBackdoor } from '../../src/store/testing.js';
import { tempDir, TEST_SECRET, testEnv } from '../helpers.js';
import { runCli, startHubProcess, type RunningHub } from '../process.js';
import { CLI_PATH, REPO_ROOT } from '../start-command.js';

/**
 * Verify progress, over REST (a background job: POST /api/v1/audit/verify, then GET /api/v1/audit/verify/{id}) and
 * in `sonde-hub audit verify` (stderr: a line rewritten in place on a terminal, plain lines otherwise), against a real
 * hub process and the real CLI on a chain large enough for the verify to run on a worker thread and report progress
 * from it (60,000 entries: one range of more than MIN_ROWS_PER_WORKER). Cancelling it too: over REST
 * (`DELETE /api/v1/audit/verify/{id}`) and with Ctrl-C in the CLI, on a terminal and not.
 */
const ENTRIES = 60_000;
/** Carriage return, then ESC [K (erase to the end of the line). */
const CLEAR_LINE = '\r\u001b[K';
const { dir, cleanup } = tempDir('sonde-verify-progress-');
const env = testEnv(path.join(dir, 'sonde.db'), { SONDE_LOG_LEVEL: 'info' });
let hub: RunningHub;
let adminKey: string;
let memberKey: string;

beforeAll(async () => {
  // The chain, written through the hub's own audit log (group commits of concurrent appends).
  const core = await openHubCore({ dbPath: env.SONDE_DB_PATH, secret: TEST_SECRET, ca: false });
  for (let done = 0; done < ENTRIES; done += 10_000) {
    await Promise.all(
      Array.from({ length: 10_000 }, (_, i) =>
        core.audit.append({
          action: 'test.fill',
          actor: { kind: 'system', id: null, name: 'fill' },
          status: 'ok',
          detail: `entry ${done + i}`,
        }),
      ),
    );
  }
  await core.close();
  const keyOf = async (role: string) => {
    const created = await runCli(['keys', 'create', '--name', `verify-${role}`, '--role', role, '--json'], env);
    expect(created.code, created.stderr).toBe(0);
    return (JSON.parse(created.stdout) as { rawKey: string }).rawKey;
  };
  adminKey = await keyOf('admin');
  memberKey = await keyOf('member');
  hub = await startHubProcess(env);
}, 180_000);

afterAll(async () => {
  await hub?.stop();
  cleanup();
});

interface Job {
  id: string;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  cancelledBy: string | null;
  full: boolean;
  checked: number;
  total: number;
  startedBy: string | null;
  finishedAt: string | null;
  result: { ok: boolean; checked: number; firstBrokenSeq?: number } | null;
  error: string | null;
}

const call = (method: string, url: string, key = adminKey) =>
  fetch(`${hub.url}${url}`, { method, headers: { authorization: `Bearer ${key}` } });

/** Polls the job every 5 ms until it ends, keeping every state seen. */
async function follow(id: string): Promise<Job[]> {
  const seen: Job[] = [];
  const deadline = Date.now() + 120_000;
  for (;;) {
    const res = await call('GET', `/api/v1/audit/verify/${id}`);
    expect(res.status).toBe(200);
    const job = (await res.json()) as Job;
    seen.push(job);
    if (job.state !== 'running') return seen;
    if (Date.now() > deadline) throw new Error(`verify job ${id} still running: ${JSON.stringify(job)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('audit verify progress over REST (a job resource on a real hub)', () => {
  it('starts a verify at once, reports entries checked while it runs, then the result, audited once', async () => {
    const started = await call('POST', '/api/v1/audit/verify');
    expect(started.status).toBe(202);
    const job = (await started.json()) as Job;
    expect(started.headers.get('location')).toBe(`/api/v1/audit/verify/${job.id}`);
    expect(job).toMatchObject({ state: 'running', full: true, checked: 0, result: null, startedBy: 'verify-admin' });

    // One at a time: a second start while it runs gets the running job.
    const again = (await (await call('POST', '/api/v1/audit/verify?full=false')).json()) as Job;
    expect(again.id).toBe(job.id);

    const seen = await follow(job.id);
    const last = seen[seen.length - 1];
    expect(last.state).toBe('done');
    expect(last.result).toMatchObject({ ok: true });
    expect(last.result!.checked).toBeGreaterThan(ENTRIES);
    expect(last.checked).toBe(last.result!.checked);
    // Progress while it ran: from the worker thread, between 0 and the end, never going down.
    const between = seen.filter((s) => s.state === 'running' && s.checked > 0 && s.checked < s.total);
    expect(between.length, JSON.stringify(seen.map((s) => [s.state, s.checked, s.total]))).toBeGreaterThan(0);
    const counts = seen.map((s) => s.checked);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(last.finishedAt).not.toBeNull();

    // Audited once, as the route that waits does, naming the job.
    const audit = (await (await call('GET', '/api/v1/audit?tool=audit.verify')).json()) as { entries: { detail: string }[] };
    expect(audit.entries.filter((e) => e.detail.includes(job.id))).toHaveLength(1);
    expect(audit.entries[0].detail).toBe(`${last.result!.checked} entries checked (full) (job ${job.id})`);
  }, 180_000);

  it('reports a broken chain as a finished job with the first broken entry', async () => {
    const page = (await (await call('GET', '/api/v1/audit?before=1235&limit=1')).json()) as { entries: { seq: number; detail: string }[] };
    const original = page.entries[0];
    expect(original.seq).toBe(1234);
    const backdoor = await openStoreBackdoor(env.SONDE_DB_PATH);
    await backdoor.editAuditRow(1234, { detail: 'rewritten' });
    try {
      const job = (await (await call('POST', '/api/v1/audit/verify')).json()) as Job;
      const seen = await follow(job.id);
      expect(seen[seen.length - 1]).toMatchObject({ state: 'done', result: { ok: false, firstBrokenSeq: 1234 } });
    } finally {
      await backdoor.editAuditRow(1234, { detail: original.detail });
      await backdoor.close();
    }
  }, 180_000);

  it('is for unscoped admins only, and an unknown job is a coded 404', async () => {
    expect((await fetch(`${hub.url}/api/v1/audit/verify`, { method: 'POST' })).status).toBe(401);
    const member = await call('POST', '/api/v1/audit/verify', memberKey);
    expect(member.status).toBe(403);
    expect(((await member.json()) as { error: { code: string } }).error.code).toBe('SONDE_ERR_FORBIDDEN');
    expect((await call('GET', '/api/v1/audit/verify/00000000-0000-0000-0000-000000000000', memberKey)).status).toBe(403);
    const unknown = await call('GET', '/api/v1/audit/verify/00000000-0000-0000-0000-000000000000');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('SONDE_ERR_NOT_FOUND');
  });
});

describe('sonde-hub audit verify progress (the real CLI)', () => {
  it('prints plain progress lines on stderr when stderr is not a terminal, the result on stdout', async () => {
    const result = await runCli(['audit', 'verify'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^audit chain OK: \d+ entries checked \(full\)/);
    const lines = result.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.length).toBeLessThanOrEqual(11);
    for (const line of lines) expect(line).toMatch(/^verifying the audit chain: [\d,]+ of [\d,]+ entries \(\d+ %\)$/);
    expect(lines[lines.length - 1]).toMatch(/\(100 %\)$/);
    expect(result.stderr).not.toContain('\r');
  }, 120_000);

  it('rewrites one progress line in place on a terminal (a real pseudo-terminal via script(1))', async () => {
    const command = [process.execPath, CLI_PATH, 'audit', 'verify'].map((a) => `'${a}'`).join(' ');
    const output = await new Promise<{ code: number | null; text: string }>((resolve) => {
      const child = spawn('script', ['-qec', command, '/dev/null'], {
        env: { PATH: process.env.PATH ?? '', TERM: 'xterm', ...env },
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.on('exit', (code) => resolve({ code, text }));
    });
    expect(output.code, output.text).toBe(0);
    const updates = output.text.split(CLEAR_LINE).filter((part) => part.startsWith('verifying the audit chain: '));
    expect(updates.length, JSON.stringify(output.text.slice(0, 2000))).toBeGreaterThan(0);
    // The line is cleared before the result is printed.
    expect(output.text).toContain(`${CLEAR_LINE}audit chain OK: `);
    expect(output.text).not.toMatch(/entries \(\d+ %\)\n/);
  }, 120_000);
});

/** Threads of a process now (Linux: /proc/PID/task); a verify's worker threads are among them while they run. */
function threadsOf(pid: number): number {
  return readdirSync(`/proc/${pid}/task`).length;
}

async function until<T>(read: () => Promise<T> | T, done: (value: T) => boolean, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('cancelling a verify over REST (DELETE /api/v1/audit/verify/{id}, a real hub)', () => {
  it('stops the running verify and its worker threads at once, audited once, and frees the slot for the next one', async () => {
    const pid = hub.child.pid!;
    const idle = threadsOf(pid);
    const job = (await (await call('POST', '/api/v1/audit/verify')).json()) as Job;
    expect(job.state).toBe('running');
    // The worker thread is up (one range of 60,000 rows), then cancelled while it walks.
    await until(
      () => threadsOf(pid),
      (n) => n > idle,
      'worker thread started',
    );
    const cancelled = await call('DELETE', `/api/v1/audit/verify/${job.id}`);
    expect(cancelled.status).toBe(200);
    const body = (await cancelled.json()) as Job;
    expect(body).toMatchObject({ id: job.id, state: 'cancelled', cancelledBy: 'verify-admin', result: null });
    expect(body.checked).toBeLessThan(ENTRIES);
    expect(body.finishedAt).not.toBeNull();
    // The worker thread is gone (terminated, not left to walk to its end).
    await until(
      () => threadsOf(pid),
      (n) => n <= idle,
      'worker thread ended',
      5_000,
    );

    // Audited once: one audit.verify entry for the job, status partial, by whoever cancelled it.
    const audit = (await (await call('GET', '/api/v1/audit?tool=audit.verify&limit=50')).json()) as {
      entries: { detail: string; status: string; actor: { name: string } }[];
    };
    const entries = audit.entries.filter((e) => e.detail.includes(job.id));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ status: 'partial', actor: { name: 'verify-admin' } });
    expect(entries[0].detail).toMatch(/^cancelled after \d+ of \d+ entries checked, nothing recorded \(job /);

    // Cancelling again, or polling it, shows the same cancelled job and audits nothing more.
    expect((await (await call('DELETE', `/api/v1/audit/verify/${job.id}`)).json()) as Job).toMatchObject({ state: 'cancelled' });
    expect((await (await call('GET', `/api/v1/audit/verify/${job.id}`)).json()) as Job).toMatchObject({ state: 'cancelled' });

    // The slot is free: a new start is a new job, which runs to its end.
    const next = (await (await call('POST', '/api/v1/audit/verify')).json()) as Job;
    expect(next.id).not.toBe(job.id);
    const seen = await follow(next.id);
    expect(seen[seen.length - 1]).toMatchObject({ state: 'done', result: { ok: true }, cancelledBy: null });
    // A job that has ended is returned as it is.
    expect((await (await call('DELETE', `/api/v1/audit/verify/${next.id}`)).json()) as Job).toMatchObject({ state: 'done' });
    const after = (await (await call('GET', '/api/v1/audit?tool=audit.verify&limit=50')).json()) as { entries: { detail: string }[] };
    expect(after.entries.filter((e) => e.detail.includes(job.id) || e.detail.includes(next.id))).toHaveLength(2);
  }, 180_000);

  it('is for unscoped admins only, and an unknown job is a coded 404', async () => {
    const member = await call('DELETE', '/api/v1/audit/verify/00000000-0000-0000-0000-000000000000', memberKey);
    expect(member.status).toBe(403);
    expect((await fetch(`${hub.url}/api/v1/audit/verify/x`, { method: 'DELETE' })).status).toBe(401);
    const unknown = await call('DELETE', '/api/v1/audit/verify/00000000-0000-0000-0000-000000000000');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('SONDE_ERR_NOT_FOUND');
  });
});

/** Spawns the CLI (directly, or on a pseudo-terminal through script(1)), collecting stdout and stderr. */
function spawnCli(args: string[], tty: boolean) {
  const argv = [process.execPath, CLI_PATH, ...args];
  const child = tty
    ? spawn('script', ['-qec', argv.map((a) => `'${a}'`).join(' '), '/dev/null'], {
        env: { PATH: process.env.PATH ?? '', TERM: 'xterm', ...env },
        cwd: REPO_ROOT,
        stdio: ['pipe', 'pipe', 'pipe'],
      })
    : spawn(argv[0], argv.slice(1), { env: { PATH: process.env.PATH ?? '', ...env }, cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, text: () => ({ stdout, stderr }) };
}

async function cliCancellations(): Promise<{ detail: string; status: string }[]> {
  const audit = (await (await call('GET', '/api/v1/audit?tool=audit.verify&limit=100')).json()) as {
    entries: { detail: string; status: string; actor: { kind: string } }[];
  };
  return audit.entries.filter((e) => e.actor.kind === 'cli' && e.status === 'partial');
}

describe('sonde-hub audit verify stops cleanly on Ctrl-C (the real CLI)', () => {
  it('on SIGINT without a terminal: the verify stops, the cancellation is audited, exit 130', async () => {
    const before = (await cliCancellations()).length;
    const cli = spawnCli(['audit', 'verify'], false);
    // Cancelled while it walks: after its first progress line, before its last.
    await until(
      () => cli.text().stderr,
      (text) => text.includes('verifying the audit chain: '),
      'first progress line',
    );
    cli.child.kill('SIGINT');
    const code = await cli.exited;
    const { stdout, stderr } = cli.text();
    expect(code, stderr).toBe(130);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/sonde-hub: audit verify cancelled after [\d,]+ of [\d,]+ entries checked; nothing recorded\n$/);
    expect(stderr).not.toContain('(100 %)');
    expect(stderr).not.toMatch(/at .*\.js:\d+/);
    const entries = await cliCancellations();
    expect(entries).toHaveLength(before + 1);
    expect(entries[0].detail).toMatch(/^cancelled after \d+ of \d+ entries checked, nothing recorded \(Ctrl-C\)$/);
  }, 120_000);

  it('on a terminal (Ctrl-C typed into a real pseudo-terminal): the progress line is cleared, then the message, exit 130', async () => {
    const before = (await cliCancellations()).length;
    const cli = spawnCli(['audit', 'verify'], true);
    await until(
      () => cli.text().stdout,
      (text) => text.includes('verifying the audit chain: '),
      'progress line on the terminal',
    );
    // ^C through the terminal: its line discipline sends SIGINT to the foreground process group, as a keyboard does.
    cli.child.stdin!.write('\u0003');
    const code = await cli.exited;
    const output = cli.text().stdout + cli.text().stderr;
    expect(code, output).toBe(130);
    expect(output).toContain(`${CLEAR_LINE}sonde-hub: audit verify cancelled after `);
    expect(output).not.toContain('audit chain OK');
    expect(await cliCancellations()).toHaveLength(before + 1);
  }, 120_000);
});
