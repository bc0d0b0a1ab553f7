import { isSondeError } from '@sonde/pack-sdk';
import { createScrubber } from '@sonde/pack-sdk/scrubber';
import type { AgentConfig } from '../config/schema.js';
import { AgentError } from '../errors.js';

/** Scrubs one probe result (or error message) before it is signed and sent. */
export type Scrub = (value: unknown) => unknown;

/**
 * The pack-sdk scrubber with the operator's custom patterns from config.json.
 * A pattern the scrubber refuses (invalid, or shaped for catastrophic
 * backtracking) stops the agent at start-up rather than running unscrubbed.
 */
export function createAgentScrubber(config: AgentConfig): Scrub {
  let scrubber;
  try {
    scrubber = createScrubber({ customPatterns: config.scrubber.customPatterns });
  } catch (error) {
    if (isSondeError(error)) throw new AgentError('SONDE_ERR_CONFIG_INVALID', error.message);
    throw error;
  }
  return (value) => scrubber.scrub(value).value;
}
