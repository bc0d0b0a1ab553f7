import { createInterface } from 'node:readline/promises';

/**
 * Plain readline prompts, only ever on a terminal (the caller checks). Each
 * shows its default, which Enter accepts; an invalid answer is asked again.
 */
export interface Prompter {
  ask(question: string, fallback: string, check: (answer: string) => string): Promise<string>;
  close(): void;
}

export function terminalPrompter(): Prompter {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  return {
    async ask(question, fallback, check) {
      for (;;) {
        const answer = (await rl.question(`? ${question} (${fallback}) `)).trim() || fallback;
        try {
          return check(answer);
        } catch (error) {
          process.stdout.write(`  ${(error as Error).message}\n`);
        }
      }
    },
    close: () => rl.close(),
  };
}
