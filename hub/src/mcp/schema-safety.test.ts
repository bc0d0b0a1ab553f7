import { describe, expect, it } from 'vitest';
import { withoutRegex } from './schema-safety.js';

describe('withoutRegex', () => {
  it('drops every keyword ajv turns into a regular expression, at any depth, and keeps property names that look like keywords', () => {
    const schema = {
      type: 'object',
      properties: {
        pattern: { type: 'string', pattern: '^(a+)+$' },
        nested: { anyOf: [{ type: 'string', format: 'regex' }, { items: { pattern: '(x+x+)+y' } }] },
        when: { type: 'string', format: 'date-time' },
      },
      patternProperties: { '^(a|a)*$': { type: 'string' } },
      propertyNames: { pattern: '^(b+)+$' },
      dependencies: { when: { properties: { x: { pattern: '(c+)+' } } }, pattern: ['when'] },
      $defs: { d: { pattern: '(d+)+' } },
      additionalProperties: false,
    };
    const safe = withoutRegex(schema);
    expect(JSON.stringify(safe)).not.toMatch(/"pattern":"|patternProperties|propertyNames|"regex"/);
    expect(safe).toMatchObject({
      properties: { pattern: { type: 'string' }, when: { format: 'date-time' } },
      // What patternProperties allowed stays allowed.
      additionalProperties: true,
      dependencies: { pattern: ['when'] },
    });
  });

  it('cuts nesting beyond the depth limit instead of recursing', () => {
    let deep: Record<string, unknown> = { type: 'string', pattern: '(a+)+' };
    for (let i = 0; i < 10_000; i++) deep = { items: deep };
    expect(() => withoutRegex(deep)).not.toThrow();
  });
});
