/**
 * A complete example pack: two probes, their permissions and a runbook.
 * It type-checks with the repository and `test/hello-pack.test.ts` runs it
 * through the harness, so the README cannot drift from working code.
 */
import { z } from 'zod';
import { definePack, defineProbe, type Finding } from '@sonde/pack-sdk';

const DiskUsageSchema = z.object({
  filesystems: z.array(
    z.object({
      filesystem: z.string(),
      mountedOn: z.string(),
      sizeKiB: z.number(),
      usedKiB: z.number(),
      availableKiB: z.number(),
      usePercent: z.number(),
    }),
  ),
});

/** `df -P -k` prints one POSIX-format line per mounted filesystem. */
const diskUsage = defineProbe({
  name: 'disk.usage',
  description: 'Used and free space per mounted filesystem, in KiB, with the use percentage. Use first when a host is slow or writes fail.',
  params: z
    .object({ minPercent: z.number().int().min(0).max(100).default(0).describe('Only list filesystems at least this full.') })
    .strict(),
  result: DiskUsageSchema,
  timeoutMs: 10_000,
  async handler({ minPercent }, ctx) {
    const { stdout } = await ctx.exec('df', ['-P', '-k']);
    const filesystems = stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((cols) => cols.length >= 6)
      .map((cols) => ({
        filesystem: cols[0],
        mountedOn: cols.slice(5).join(' '),
        sizeKiB: Number(cols[1]),
        usedKiB: Number(cols[2]),
        availableKiB: Number(cols[3]),
        usePercent: Number(cols[4].replace('%', '')),
      }))
      .filter((fs) => fs.usePercent >= minPercent);
    return { filesystems };
  },
});

/** Reads `/etc/os-release` (a declared file) and returns the distribution. */
const osRelease = defineProbe({
  name: 'os.release',
  description: 'Distribution name and version from /etc/os-release.',
  params: z.object({}).strict(),
  result: z.object({ id: z.string(), name: z.string(), version: z.string().optional() }),
  async handler(_params, ctx) {
    const { content } = await ctx.readFile('/etc/os-release');
    const fields = new Map<string, string>();
    for (const line of content.split('\n')) {
      const match = /^([A-Z_]+)=("?)(.*)\2$/.exec(line.trim());
      if (match) fields.set(match[1], match[3]);
    }
    return {
      id: fields.get('ID') ?? 'unknown',
      name: fields.get('PRETTY_NAME') ?? fields.get('NAME') ?? 'unknown',
      version: fields.get('VERSION_ID'),
    };
  },
});

/** Turns disk usage into findings: 90 % or more is critical, 80 % a warning. */
function evaluateDisk(results: Record<string, unknown>): Finding[] {
  // A failed step arrives as `{ error }`, which does not parse: say so instead of guessing.
  const usage = DiskUsageSchema.safeParse(results['disk.usage']);
  if (!usage.success) return [{ severity: 'warning', summary: 'disk usage could not be read', probe: 'disk.usage' }];
  const findings = usage.data.filesystems
    .filter((fs) => fs.usePercent >= 80)
    .map((fs): Finding => ({
      severity: fs.usePercent >= 90 ? 'critical' : 'warning',
      summary: `${fs.mountedOn} is ${fs.usePercent}% full`,
      probe: 'disk.usage',
    }));
  return findings.length > 0 ? findings : [{ severity: 'ok', summary: 'every filesystem is below 80% full', probe: 'disk.usage' }];
}

export default definePack({
  name: 'hello',
  description: 'Example pack: disk usage and OS release.',
  kind: 'system',
  detect: { commands: ['df'], files: ['/etc/os-release'] },
  permissions: {
    commands: [{ binary: 'df', args: [['-P', '-k']], description: 'filesystem usage' }],
    files: ['/etc/os-release'],
  },
  probes: [diskUsage, osRelease],
  runbooks: [
    {
      category: 'disk',
      description: 'Is any filesystem close to full?',
      steps: [{ probe: 'disk.usage', params: { minPercent: 0 } }],
      evaluate: evaluateDisk,
    },
  ],
});
