import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { runDocker } from '../docker.js';
import { toImageRow } from '../parsers/images.js';
import { jsonLines } from '../parsers/units.js';
import { JSON_FORMAT } from '../permissions.js';

export const imagesList = defineProbe({
  name: 'images.list',
  description: 'Local images with repository, tag, digest, age and size (text and bytes), plus the dangling count and total size.',
  params: z.strictObject({}),
  result: z.object({
    images: z.array(
      z.object({
        id: z.string(),
        repository: z.string().nullable(),
        tag: z.string().nullable(),
        digest: z.string().nullable(),
        createdAt: z.string(),
        createdSince: z.string(),
        size: z.string(),
        sizeBytes: z.number().int().nullable().describe('Parsed from the CLI text (three significant digits), so approximate.'),
        dangling: z.boolean(),
      }),
    ),
    dangling: z.number().int(),
    totalSizeBytes: z.number().int(),
    unparsed: z.number().int(),
  }),
  timeoutMs: 20_000,
  async handler(_params, ctx) {
    const out = await runDocker(ctx, ['image', 'ls', '--no-trunc', '--format', JSON_FORMAT]);
    const { records, unparsed } = jsonLines(out.stdout);
    const images = records.map(toImageRow);
    return {
      images,
      dangling: images.filter((i) => i.dangling).length,
      totalSizeBytes: images.reduce((sum, i) => sum + (i.sizeBytes ?? 0), 0),
      unparsed,
    };
  },
});
