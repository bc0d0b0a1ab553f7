import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main, type Io } from '../src/main.js';
import type { Prompter } from '../src/prompts.js';
import { scratch } from './support.js';

/** On a terminal, each value not given as a flag is asked; an invalid answer is asked again; flags are never asked. */
const tmp = scratch();
afterAll(() => tmp.cleanup());

function scripted(answers: string[], asked: string[]): () => Prompter {
  return () => ({
    async ask(question, fallback, check) {
      for (;;) {
        asked.push(question);
        const answer = answers.shift();
        if (answer === undefined) throw new Error(`unexpected question: ${question}`);
        try {
          return await Promise.resolve(check(answer || fallback));
        } catch {
          // asked again, as the terminal prompter does
        }
      }
    },
    close() {},
  });
}

describe('prompts', () => {
  it('asks for what no flag gave, re-asks an invalid answer, and never asks with --yes', async () => {
    const asked: string[] = [];
    const output: string[] = [];
    const io: Io = {
      out: (t) => output.push(t),
      err: (t) => output.push(t),
      interactive: true,
      prompter: scripted(['', 'Bad Name', 'disk-pack', '@acme', 'disk.free'], asked),
    };
    const dir = path.join(tmp.dir, 'asked');
    expect(await main([dir, '--no-install'], io)).toBe(0);
    expect(asked).toEqual(['Template (system or integration)', 'Pack name', 'Pack name', 'npm scope (empty for none)', 'First probe name']);
    expect(JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).name).toBe('@acme/sonde-pack-disk-pack');

    const none: string[] = [];
    const quiet: Io = { ...io, prompter: scripted([], none) };
    expect(await main([path.join(tmp.dir, 'quiet'), '--yes', '--no-install'], quiet)).toBe(0);
    expect(
      await main(
        [path.join(tmp.dir, 'flags'), '--template', 'system', '--name', 'x', '--scope', '-', '--probe', 'a.b', '--no-install'],
        quiet,
      ),
    ).toBe(0);
    expect(none).toEqual([]);
  });
});
