let guarded = false;

/**
 * A pack process that can signal the agent must not be able to open the
 * agent's inspector: SIGUSR1 left at its default starts one on 127.0.0.1:9229,
 * and anything that reaches it runs code with the agent's authority. A
 * listener replaces the default (works on Node 20, which has no
 * `--disable-sigusr1`); the agent also passes `--disable-sigusr1` where
 * supported when it spawns itself.
 */
export function guardSigusr1(onSignal?: () => void): void {
  if (guarded) return;
  guarded = true;
  process.on('SIGUSR1', () => onSignal?.());
}
