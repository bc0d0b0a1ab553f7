import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain ESM script without declarations
import { API_TYPES_FILE, hubOpenApi, renderApiTypes } from '../../scripts/api-types.mjs';

/**
 * web-components/src/internal/api.gen.ts is generated from the hub's OpenAPI
 * document (which the hub derives from its zod route schemas). This fails
 * when a route changes and the checked-in file was not regenerated
 * (`node scripts/api-types.mjs`), so the elements never type-check against a
 * stale copy of the API.
 */
type Doc = { paths: Record<string, Record<string, unknown>> };
const render = renderApiTypes as (doc: Doc) => Promise<string>;

describe('API types generated from the hub OpenAPI document', () => {
  it('the checked-in file is what the hub generates today, and a route change would show', { timeout: 60_000 }, async () => {
    const doc = await (hubOpenApi as () => Promise<Doc>)();
    const generated = await render(doc);
    expect(generated).toContain("'/api/v1/agents/{id}/packs/{pack}/reject'");
    expect(readFileSync(API_TYPES_FILE as string, 'utf8') === generated, 'api.gen.ts is stale: run node scripts/api-types.mjs').toBe(true);
    // The comparison can fail: the same document without one route renders another file.
    const { ['/api/v1/agents/{id}/packs/{pack}/reject']: _dropped, ...fewer } = doc.paths;
    expect(await render({ ...doc, paths: fewer })).not.toBe(generated);
  });
});
