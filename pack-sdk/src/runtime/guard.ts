import path from 'node:path';
import { SondeError } from '../errors.js';
import { ARG_PLACEHOLDERS, type ArgPlaceholder, type Permissions } from '../manifest/permissions.js';
import { anyGlobMatch, globMatcher } from './glob.js';

/**
 * Pure permission checks shared by every host (in-process context, the agent's
 * broker for sandboxed packs, the hub for integration packs). They decide only
 * from the declared permissions, never from what the pack says at call time.
 */

const PLACEHOLDER_IN_TOKEN = /<(int|uint|name|host|path|text)>/;

/** Declared globs, in the one dialect (runtime/glob.ts), each compiled once. */
function matchGlob(globs: readonly string[], target: string): boolean {
  return anyGlobMatch(globs, target);
}

/** A path argument or file read is only ever an absolute, normalised path. */
function isCleanAbsolutePath(value: string): boolean {
  return value.startsWith('/') && !value.includes('\0') && path.posix.normalize(value) === value && !value.split('/').includes('..');
}

function matchToken(shape: string, actual: string, fileGlobs: readonly string[]): boolean {
  const found = PLACEHOLDER_IN_TOKEN.exec(shape);
  if (!found) return shape === actual;
  const prefix = shape.slice(0, found.index);
  const suffix = shape.slice(found.index + found[0].length);
  if (!actual.startsWith(prefix) || !actual.endsWith(suffix) || actual.length < prefix.length + suffix.length) return false;
  const value = actual.slice(prefix.length, actual.length - suffix.length);
  const placeholder = found[0] as ArgPlaceholder;
  if (!ARG_PLACEHOLDERS[placeholder].test(value)) return false;
  // A bare placeholder must never look like an option, or a value could turn into a flag.
  if (prefix === '' && value.startsWith('-') && placeholder !== '<int>') return false;
  if (placeholder === '<path>') return isCleanAbsolutePath(value) && matchGlob(fileGlobs, value);
  return true;
}

/** The values of the `<path>` placeholders in `args` under `shape` (which `args` fits). */
function pathArguments(shape: readonly string[], args: readonly string[]): string[] {
  return shape.flatMap((token, i) => {
    const found = PLACEHOLDER_IN_TOKEN.exec(token);
    if (!found || found[0] !== '<path>') return [];
    const prefix = token.slice(0, found.index);
    const suffix = token.slice(found.index + found[0].length);
    return [args[i].slice(prefix.length, args[i].length - suffix.length)];
  });
}

/**
 * Throws SONDE_ERR_PERMISSION_DENIED unless `binary args` fits a declared shape. Returns the arguments that
 * filled a `<path>` placeholder: the host must give them the same deny-list and realpath checks as a read.
 */
export function checkCommand(permissions: Permissions, binary: string, args: readonly string[]): string[] {
  const declared = permissions.commands.filter((command) => command.binary === binary);
  if (declared.length === 0) {
    throw new SondeError('SONDE_ERR_PERMISSION_DENIED', `command ${binary} is not declared by this pack`, { binary });
  }
  for (const argument of args) {
    if (typeof argument !== 'string' || argument.includes('\0')) {
      throw new SondeError('SONDE_ERR_PERMISSION_DENIED', `command ${binary}: arguments must be strings without NUL bytes`, { binary });
    }
  }
  const fits = declared
    .flatMap((command) => command.args)
    .find((shape) => shape.length === args.length && shape.every((token, i) => matchToken(token, args[i], permissions.files)));
  if (!fits) {
    throw new SondeError('SONDE_ERR_PERMISSION_DENIED', `command ${binary}: these arguments do not fit any declared shape`, {
      binary,
      args: [...args],
    });
  }
  return pathArguments(fits, args);
}

/**
 * Checks a file path against the declared globs. Call it with the path the
 * pack asked for and again with its realpath, so a symlink that points out of
 * the declared tree is refused. `denied` holds host paths no pack may ever read
 * (the agent's key and config), whatever it declares.
 */
export function checkFileRead(permissions: Permissions, filePath: string, denied: readonly string[] = []): void {
  if (!isCleanAbsolutePath(filePath)) {
    throw new SondeError('SONDE_ERR_PERMISSION_DENIED', `file ${filePath}: only absolute, normalised paths may be read`, {
      path: filePath,
    });
  }
  for (const root of denied) {
    if (filePath === root || filePath.startsWith(root.endsWith('/') ? root : `${root}/`)) {
      throw new SondeError('SONDE_ERR_PERMISSION_DENIED', `file ${filePath} is protected by the host`, { path: filePath });
    }
  }
  if (!matchGlob(permissions.files, filePath)) {
    throw new SondeError('SONDE_ERR_PERMISSION_DENIED', `file ${filePath} is not declared by this pack`, { path: filePath });
  }
}

/** A directory named with or without its trailing slash. */
const LOOSE_SLASHES = { strictSlashes: false } as const;

/** Directory listing is allowed when the directory itself or anything under it is declared. */
export function checkDirList(permissions: Permissions, dirPath: string, denied: readonly string[] = []): void {
  const probe = dirPath.endsWith('/') ? dirPath : `${dirPath}/`;
  const allowed = permissions.files.some((glob) => glob === dirPath || glob.startsWith(probe) || globMatcher(glob, LOOSE_SLASHES)(dirPath));
  if (!allowed) {
    throw new SondeError('SONDE_ERR_PERMISSION_DENIED', `directory ${dirPath} is not declared by this pack`, { path: dirPath });
  }
  checkFileRead({ ...permissions, files: ['/**'] }, dirPath, denied);
}

/**
 * Checks an HTTP URL against declared network permissions. `{endpoint}` in a
 * declared host stands for the integration instance's configured endpoint.
 */
export function checkHttp(permissions: Permissions, url: string, endpoint?: string): URL {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new SondeError('SONDE_ERR_PERMISSION_DENIED', `not a valid URL: ${url}`);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new SondeError('SONDE_ERR_PERMISSION_DENIED', `only http and https URLs are allowed`, { url });
  }
  if (target.username || target.password) {
    throw new SondeError('SONDE_ERR_PERMISSION_DENIED', `credentials in URLs are not allowed; use declared credentials`);
  }
  const endpointUrl = endpoint ? new URL(endpoint) : undefined;
  const protocol = target.protocol.slice(0, -1);
  const port = Number(target.port || (protocol === 'https' ? 443 : 80));
  const ok = permissions.network.some((rule) => {
    if (rule.protocol !== protocol) return false;
    const host = rule.host === '{endpoint}' ? endpointUrl?.hostname : rule.host;
    if (!host || host.toLowerCase() !== target.hostname.toLowerCase()) return false;
    const rulePort =
      rule.port ?? (rule.host === '{endpoint}' && endpointUrl?.port ? Number(endpointUrl.port) : protocol === 'https' ? 443 : 80);
    if (rulePort !== port) return false;
    return !rule.paths || matchGlob(rule.paths, target.pathname);
  });
  if (!ok)
    throw new SondeError('SONDE_ERR_PERMISSION_DENIED', `endpoint ${target.origin}${target.pathname} is not declared by this pack`, {
      url,
    });
  return target;
}
