import { describe, expect, it } from 'vitest';
import { probeToolName, TOOL_NAME_PATTERN, toolNameBudget } from './tool-names.js';

describe('probe tool names', () => {
  it('turns dots and dashes into underscores', () => {
    expect(probeToolName('system.disk.usage', 48, new Set())).toBe('system_disk_usage');
    expect(probeToolName('my-pack.status', 48, new Set())).toBe('my_pack_status');
  });

  it('keeps server name + tool name within 60 characters', () => {
    expect(toolNameBudget('sonde')).toBe(48);
    expect(toolNameBudget('x'.repeat(20))).toBe(40);
    const name = probeToolName(`postgres.${'replication_'.repeat(6)}lag`, toolNameBudget('x'.repeat(20)), new Set());
    expect(name.length).toBeLessThanOrEqual(40);
    expect(name).toMatch(TOOL_NAME_PATTERN);
  });

  it('gives a colliding name a stable hash suffix', () => {
    const first = probeToolName('a-b.c', 48, new Set());
    const second = probeToolName('a.b_c', 48, new Set([first]));
    expect(first).toBe('a_b_c');
    expect(second).not.toBe(first);
    expect(second).toMatch(/^a_b_c_[0-9a-f]{6}$/);
    expect(probeToolName('a.b_c', 48, new Set([first]))).toBe(second);
  });
});
