import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ProbeRequestSchema } from '@sonde/pack-sdk/protocol';
import { probeRequestProblem } from './connection.js';

/** The probe request is signed without a zod parse: probeRequestProblem must refuse whatever the schema refuses. */
describe('probeRequestProblem', () => {
  const cases: Array<[string, unknown, unknown, number]> = [
    ['a plain request', 'system.disk.usage', { path: '/' }, 5_000],
    ['no params', 'bench.noop', {}, 100],
    ['nested params', 'x.y', { a: { b: [1, 'two', null] } }, 44_000],
    ['a null-prototype object', 'x.y', Object.assign(Object.create(null) as object, { a: 1 }), 1_000],
    ['the longest probe name', 'p'.repeat(200), {}, 1_000],
    ['a probe name too long', 'p'.repeat(201), {}, 1_000],
    ['a probe name that is not a string', 42, {}, 1_000],
    ['params as an array', 'x.y', ['a'], 1_000],
    ['params as a string', 'x.y', 'id; rm -rf /', 1_000],
    ['params as null', 'x.y', null, 1_000],
    ['params as a Date', 'x.y', new Date(0), 1_000],
    ['params as a Map', 'x.y', new Map([['a', 1]]), 1_000],
    ['a timeout under 100 ms', 'x.y', {}, 99],
    ['a timeout over 120 s', 'x.y', {}, 120_001],
    ['a fractional timeout', 'x.y', {}, 150.5],
    ['a NaN timeout', 'x.y', {}, Number.NaN],
  ];

  it.each(cases)('agrees with ProbeRequestSchema on %s', (_label, probe, params, timeoutMs) => {
    const schema = ProbeRequestSchema.safeParse({ requestId: randomUUID(), probe, params, timeoutMs }).success;
    expect(probeRequestProblem(probe, params, timeoutMs) === undefined).toBe(schema);
  });
});
