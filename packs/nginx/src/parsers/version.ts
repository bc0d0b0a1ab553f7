/** Parser for `nginx -V` (printed on stderr). */

export interface NginxBuild {
  version: string | null;
  builtWith: string | null;
  tlsSni: boolean;
  modules: Array<{ name: string; dynamic: boolean }>;
  paths: Record<string, string>;
  configureArguments: string[];
}

/** Splits configure arguments, keeping quoted values such as --with-cc-opt='-g -O2' whole. */
function splitArguments(text: string): string[] {
  return [...text.matchAll(/(?:[^\s']+|'[^']*')+/g)].map((m) => m[0].replace(/'/g, ''));
}

export function parseNginxV(output: string): NginxBuild {
  const version = /nginx version: nginx\/(\S+)/.exec(output)?.[1] ?? null;
  const builtWith = /built with (.+)$/m.exec(output)?.[1]?.trim() ?? null;
  const configure = /configure arguments: (.*)$/m.exec(output)?.[1] ?? '';
  const args = splitArguments(configure);
  const modules: NginxBuild['modules'] = [];
  const paths: Record<string, string> = {};
  for (const arg of args) {
    const module = /^--with-(\w+_module)(=dynamic)?$/.exec(arg);
    if (module) modules.push({ name: module[1], dynamic: module[2] !== undefined });
    else if (/^--with-(mail|stream)(=dynamic)?$/.test(arg))
      modules.push({ name: arg.slice(7).replace('=dynamic', ''), dynamic: arg.endsWith('=dynamic') });
    const path = /^--((?:[\w-]+-)?path|prefix)=(.*)$/.exec(arg);
    if (path) paths[path[1]] = path[2]!;
  }
  return { version, builtWith, tlsSni: /TLS SNI support enabled/.test(output), modules, paths, configureArguments: args };
}
