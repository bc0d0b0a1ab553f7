import { usageError } from './errors.js';

/**
 * Name rules. The pack and probe patterns are the SDK's (PACK_NAME_PATTERN,
 * PROBE_NAME_PATTERN); they are repeated here because the scaffolder depends
 * on nothing, and a test checks they stay equal.
 */
export const PACK_NAME = /^[a-z][a-z0-9-]{0,31}$/;
export const PROBE_NAME = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*){0,4}$/;
/** npm's rules for new packages: lowercase, URL-safe, no leading dot or underscore, at most 214 characters. */
const NPM_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
const SCOPE = /^@[a-z0-9][a-z0-9._~-]*$/;

export function checkPackName(name: string): string {
  if (!PACK_NAME.test(name))
    throw usageError(
      'Invalid pack name',
      `"${name}" is not a pack name: it must start with a lowercase letter and hold only lowercase letters, digits and dashes (at most 32).\nProbes are exposed to AI clients as <pack>.<probe>, so the name is part of every tool name.`,
      'Pass --name with a name such as my-pack.',
    );
  return name;
}

export function checkProbeName(name: string): string {
  if (!PROBE_NAME.test(name))
    throw usageError(
      'Invalid probe name',
      `"${name}" is not a probe name: use lowercase dotted segments of letters, digits and underscores, such as os.info or queue.depth.`,
      'Pass --probe with a name such as os.info.',
    );
  return name;
}

export function checkScope(scope: string): string {
  const withAt = scope.startsWith('@') ? scope : `@${scope}`;
  if (!SCOPE.test(withAt))
    throw usageError(
      'Invalid npm scope',
      `"${scope}" is not an npm scope: lowercase letters, digits, dots, dashes and underscores after the @, such as @acme.`,
      'Pass --scope with your npm organisation, e.g. --scope @acme, or leave it out for an unscoped package.',
    );
  return withAt;
}

export function checkPackageName(name: string): string {
  if (name.length > 214 || !NPM_NAME.test(name))
    throw usageError(
      'Invalid package name',
      `"${name}" is not a valid npm package name: lowercase letters, digits, dots, dashes and underscores, optionally under a scope (@acme/…), at most 214 characters.`,
      'Choose another folder name, or pass --name and --scope explicitly.',
    );
  return name;
}

/** The pack name a folder suggests: `My_Pack` → `my-pack`; undefined when nothing usable is left. */
export function packNameFromFolder(folder: string): string | undefined {
  const candidate = folder
    .toLowerCase()
    .replace(/^sonde-pack-/, '')
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 32)
    .replace(/-+$/, '');
  return PACK_NAME.test(candidate) ? candidate : undefined;
}

export function packageNameFor(packName: string, scope: string | undefined): string {
  return checkPackageName(scope ? `${scope}/sonde-pack-${packName}` : `sonde-pack-${packName}`);
}
