/** One result of `validate`: a rule id (stable, for SARIF and suppressions), a level, a message and where. */
export interface Finding {
  rule: string;
  level: 'error' | 'warning';
  message: string;
  file?: string;
  line?: number;
}

/** Every rule with its one-line description (SARIF's rule metadata and `validate --rules`). */
export const RULES: Record<string, string> = {
  'package/json': 'package.json has the fields a pack needs',
  'package/peer-dependencies': '@sonde/pack-sdk and zod are peer dependencies: the agent lends its copies',
  'package/bundled-dependencies': 'other runtime dependencies are bundled, so the signature covers them',
  'package/files': 'the published files include the built entry and sonde-pack.json',
  'manifest/load': 'the built entry default-exports definePack(...)',
  'manifest/schema': 'the manifest matches the SDK schema',
  'manifest/stale': 'sonde-pack.json matches the built definition',
  'manifest/version': 'definePack names no version (package.json has it), or one that agrees with package.json',
  'permissions/broad': 'a permission grants more than a probe is likely to need',
  'imports/host-effect': 'pack code reaches the host only through ctx (no fs, child_process, net, http, …)',
  'imports/undeclared': 'every imported package is a declared dependency or peer',
  'read-only/command': 'declared commands only read (no rm, kill, systemctl restart, …)',
  'read-only/http-method': 'HTTP requests only read (GET/HEAD; POST only for queries)',
};
