import { describe, expect, it } from 'vitest';
import { AgentConfigSchema } from '../config/schema.js';
import { AgentError } from '../errors.js';
import { createAgentScrubber } from './scrub.js';

const config = (customPatterns: string[] = []) => AgentConfigSchema.parse({ scrubber: { customPatterns } });

describe('createAgentScrubber', () => {
  it('redacts the default secret shapes and secret-named keys', () => {
    const scrub = createAgentScrubber(config());
    const out = JSON.stringify(scrub({ line: 'password=hunter2', nested: { apiToken: 'abc123def456' } }));
    expect(out).not.toContain('hunter2');
    expect(out).not.toContain('abc123def456');
  });

  it('adds the operator patterns from config.json', () => {
    const scrub = createAgentScrubber(config(['ACME-[0-9]{6}']));
    expect(JSON.stringify(scrub({ note: 'ticket ACME-123456 opened' }))).not.toContain('ACME-123456');
  });

  it('refuses an invalid custom pattern as a config error instead of running unscrubbed', () => {
    expect(() => createAgentScrubber(config(['(unclosed']))).toThrow(AgentError);
  });
});
