import { parseSize, str } from './units.js';

/** Maps `docker image ls --format '{{json .}}'` records to typed rows. */

export interface ImageRow {
  id: string;
  repository: string | null;
  tag: string | null;
  digest: string | null;
  createdAt: string;
  createdSince: string;
  size: string;
  sizeBytes: number | null;
  dangling: boolean;
}

const none = (value: string): string | null => (value === '<none>' || value === '' ? null : value);

export function toImageRow(record: Record<string, unknown>): ImageRow {
  const repository = none(str(record.Repository));
  const tag = none(str(record.Tag));
  return {
    id: str(record.ID),
    repository,
    tag,
    digest: none(str(record.Digest)),
    createdAt: str(record.CreatedAt),
    createdSince: str(record.CreatedSince),
    size: str(record.Size),
    sizeBytes: parseSize(str(record.Size)),
    dangling: repository === null && tag === null,
  };
}
