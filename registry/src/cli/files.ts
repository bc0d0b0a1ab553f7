import { readFile, writeFile } from 'node:fs/promises';
import { RegistryError, type RegistryErrorCode } from '../errors.js';

export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Reads a JSON file; `undefined` when it does not exist and `optional` is set. */
export async function readJson(path: string, code: RegistryErrorCode, optional = false): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (optional && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RegistryError(code, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new RegistryError(code, `${path} is not JSON`);
  }
}
