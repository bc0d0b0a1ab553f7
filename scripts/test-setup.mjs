// Makes this machine ready for the test suite, for `npm test` on a fresh machine and for .ci/run:
// the real servers the pack tests talk to (.ci/services.sh installs and starts what is missing),
// and the unprivileged user `sonde` the agent tests run the agent as. Everything it does is
// idempotent; when it cannot do something (not root, no apt-get) it says so in one line and the
// suites that need it fail with their own message.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const isRoot = process.getuid?.() === 0;

/** Binaries the suite runs, by the Debian package .ci/services.sh installs them from. */
const TOOLS = {
  nginx: 'nginx-light',
  ping: 'iputils-ping',
  traceroute: 'traceroute',
  prometheus: 'prometheus',
  psql: 'postgresql',
  mariadb: 'mariadb-server',
  'redis-server': 'redis-server',
  bwrap: 'bubblewrap',
  chromium: 'chromium',
};

function onPath(command) {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    try {
      accessSync(path.join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

const missing = Object.keys(TOOLS).filter((tool) => !onPath(tool));

if (isRoot && onPath('apt-get')) {
  // Also (re)starts PostgreSQL, MariaDB and Redis when they are installed but down, and creates their `sonde` accounts.
  const services = spawnSync('bash', [path.join(root, '.ci/services.sh')], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (services.status !== 0)
    console.log(`test setup: .ci/services.sh failed (exit ${services.status}); the suites that need its servers will fail`);
} else if (missing.length > 0) {
  const why = isRoot ? 'this machine has no apt-get' : 'not running as root';
  console.log(
    `test setup: ${why}, so ${missing.map((tool) => `${tool} (${TOOLS[tool]})`).join(', ')} cannot be installed here; ` +
      `the suites that need them will fail (run \`sudo bash .ci/services.sh\` once on Debian)`,
  );
}

if (isRoot) {
  // The agent tests run the agent as `sonde`, never as root (the agent refuses root).
  if (spawnSync('id', ['sonde'], { stdio: 'ignore' }).status !== 0) {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'sonde']);
  }
  // That user must reach the checkout (and the Node binaries in it) through every parent folder: add o+x, change nothing else.
  for (let dir = root; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      const mode = statSync(dir).mode & 0o7777;
      if ((mode & 0o001) === 0) chmodSync(dir, mode | 0o001);
    } catch {
      // A parent we may not change: the agent tests report what they cannot read.
    }
  }
  spawnSync('chmod', ['-R', 'o+rX', root], { stdio: 'ignore' });
}
