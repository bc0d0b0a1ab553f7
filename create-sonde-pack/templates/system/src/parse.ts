import { z } from 'zod';

/** What the probe returns. The manifest's result schema and the TypeScript type both come from this one definition. */
export const OsInfoSchema = z.object({
  id: z.string().describe('Distribution id from /etc/os-release: debian, ubuntu, rhel, alpine, …'),
  name: z.string().describe('Distribution name.'),
  version: z.string().nullable().describe('Distribution version, when the file has one (rolling releases do not).'),
  kernel: z.string().describe('Kernel release, as uname -r prints it.'),
});
export type OsInfo = z.infer<typeof OsInfoSchema>;

/** /etc/os-release: KEY=value lines; values may be single- or double-quoted; # starts a comment. */
export function parseOsRelease(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!match) continue;
    const raw = match[2]!.trim();
    const quoted = /^(["'])(.*)\1$/.exec(raw);
    fields.set(match[1]!, quoted ? quoted[2]!.replace(/\\(["'$`\\])/g, '$1') : raw);
  }
  return fields;
}

export function toOsInfo(osRelease: string, unameRelease: string): OsInfo {
  const fields = parseOsRelease(osRelease);
  return {
    id: fields.get('ID') ?? 'linux',
    name: fields.get('NAME') ?? 'Linux',
    version: fields.get('VERSION_ID') ?? null,
    kernel: unameRelease.trim(),
  };
}
