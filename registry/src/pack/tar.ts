import { gunzipSync, gzipSync } from 'node:zlib';
import { RegistryError } from '../errors.js';

/**
 * A tiny reader and writer for the tarballs `npm pack` produces (ustar with pax
 * or GNU long names). Enough to verify a pack before it is unpacked and to add
 * a signature to one, without another dependency.
 */
export interface TarEntry {
  /** Path inside the package, with the tarball's top folder (`package/`) removed. */
  path: string;
  type: 'file' | 'directory' | 'other';
  data: Buffer;
  /** Byte range of this entry in the uncompressed archive, its pax/long-name headers included. */
  start: number;
  end: number;
}

const BLOCK = 512;

function field(header: Buffer, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul === -1 ? length : nul).toString('utf8');
}

function numeric(header: Buffer, offset: number, length: number): number {
  const raw = header.subarray(offset, offset + length);
  // GNU base-256 for sizes over 8 GiB: never legitimate in a pack, refuse.
  if ((raw[0] & 0x80) !== 0) throw new RegistryError('SONDE_ERR_PACK_MALFORMED', 'tar entry too large');
  const text = field(header, offset, length).trim();
  const value = text === '' ? 0 : Number.parseInt(text, 8);
  if (!Number.isSafeInteger(value) || value < 0) throw new RegistryError('SONDE_ERR_PACK_MALFORMED', 'bad number in a tar header');
  return value;
}

function checksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 32 : header[i];
  return sum === numeric(header, 148, 8);
}

function paxRecords(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const length = Number.parseInt(data.subarray(at, space).toString('ascii'), 10);
    if (!Number.isSafeInteger(length) || length <= 0) throw new RegistryError('SONDE_ERR_PACK_MALFORMED', 'bad pax header');
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

/** Refuses absolute paths and `..` so a tarball can never name a file outside its package. */
export function safeRelativePath(path: string): string {
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  if (path.startsWith('/') || parts.some((part) => part === '..') || parts.length === 0 || path.includes('\0')) {
    throw new RegistryError('SONDE_ERR_PACK_MALFORMED', `unsafe path in package: ${JSON.stringify(path)}`);
  }
  return parts.join('/');
}

export function readTar(gzipped: Buffer): { entries: TarEntry[]; archive: Buffer; top: string } {
  let archive: Buffer;
  try {
    archive = gunzipSync(gzipped);
  } catch {
    throw new RegistryError('SONDE_ERR_PACK_MALFORMED', 'the tarball is not gzip');
  }
  const entries: TarEntry[] = [];
  let top: string | undefined;
  let offset = 0;
  let pending: { path?: string; start: number } | undefined;
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    if (!checksumOk(header)) throw new RegistryError('SONDE_ERR_PACK_MALFORMED', `bad tar header checksum at byte ${offset}`);
    const start = pending?.start ?? offset;
    const size = numeric(header, 124, 12);
    const typeflag = String.fromCharCode(header[156]);
    const dataStart = offset + BLOCK;
    const dataEnd = dataStart + size;
    if (dataEnd > archive.length) throw new RegistryError('SONDE_ERR_PACK_MALFORMED', 'truncated tarball');
    const data = archive.subarray(dataStart, dataEnd);
    const next = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (typeflag === 'x') {
      pending = { start, path: paxRecords(data).get('path') ?? pending?.path };
    } else if (typeflag === 'L') {
      pending = { start, path: field(data, 0, data.length) };
    } else if (typeflag === 'g') {
      pending = pending ?? undefined;
    } else {
      const prefix = field(header, 345, 155);
      const name = pending?.path ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
      pending = undefined;
      const full = safeRelativePath(name);
      const slash = full.indexOf('/');
      const head = slash === -1 ? full : full.slice(0, slash);
      if (top === undefined) top = head;
      if (head !== top) throw new RegistryError('SONDE_ERR_PACK_MALFORMED', `tarball has more than one top folder (${top}, ${head})`);
      const type = typeflag === '0' || typeflag === '\0' || typeflag === '7' ? 'file' : typeflag === '5' ? 'directory' : 'other';
      if (slash !== -1) entries.push({ path: full.slice(slash + 1), type, data: Buffer.from(data), start, end: next });
      else if (type !== 'directory') throw new RegistryError('SONDE_ERR_PACK_MALFORMED', `file outside the package folder: ${full}`);
    }
    offset = next;
  }
  return { entries, archive, top: top ?? 'package' };
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

function fileHeader(name: string, size: number, mtime: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  if (Buffer.byteLength(name) > 100) throw new RegistryError('SONDE_ERR_SIGN_FAILED', `tar name too long: ${name}`);
  header.write(name, 0, 100, 'utf8');
  header.write(octal(0o644, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii');
  header.write(octal(0, 8), 116, 'ascii');
  header.write(octal(size, 12), 124, 'ascii');
  header.write(octal(mtime, 12), 136, 'ascii');
  header.write('        ', 148, 'ascii');
  header.write('0', 156, 'ascii');
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return header;
}

/**
 * Rewrites a package tarball with `path` (relative to the package folder)
 * replaced by `content`. Every other entry is copied byte for byte.
 */
export function replaceTarFile(gzipped: Buffer, path: string, content: Buffer, mtime: Date): Buffer {
  const { entries, archive, top: topName } = readTar(gzipped);
  const kept = entries.filter((entry) => entry.path !== path).map((entry) => archive.subarray(entry.start, entry.end));
  const padding = Buffer.alloc((BLOCK - (content.length % BLOCK)) % BLOCK);
  const added = Buffer.concat([fileHeader(`${topName}/${path}`, content.length, Math.floor(mtime.getTime() / 1000)), content, padding]);
  return gzipSync(Buffer.concat([...kept, added, Buffer.alloc(BLOCK * 2)]), { level: 9 });
}
