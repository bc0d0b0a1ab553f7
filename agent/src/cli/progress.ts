import cliProgress from 'cli-progress';

/**
 * A progress bar on stderr for steps that can take a while (fetching from a
 * registry, verifying every file). Only on a terminal and never with --json:
 * scripts and logs get the result lines alone.
 */
export interface Progress {
  /** Moves one step on and names what runs now. */
  step(label: string): void;
  stop(): void;
}

const SILENT: Progress = { step: () => undefined, stop: () => undefined };

export function progressBar(total: number, options: { json?: boolean } = {}): Progress {
  if (options.json || !process.stderr.isTTY || total <= 0) return SILENT;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: '{bar} {value}/{total} {label}',
      hideCursor: true,
      clearOnComplete: true,
      barsize: 24,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { label: '' });
  let done = 0;
  return {
    step(label: string) {
      bar.update(done, { label });
      done = Math.min(total, done + 1);
    },
    stop() {
      bar.update(total, { label: '' });
      bar.stop();
    },
  };
}
