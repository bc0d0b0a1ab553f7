import { CHANGE_FIELDS, CI_FIELDS, INCIDENT_DETAIL_FIELDS, INCIDENT_FIELDS } from '../src/parsers/records.js';

/** The Table API URL a probe must request, spelled out independently of the pack's client. */
export function tableUrl(endpoint: string, table: string, query: string, fields: readonly string[], limit: number): string {
  const params = new URLSearchParams({
    sysparm_query: query,
    sysparm_fields: fields.join(','),
    sysparm_limit: String(limit),
    sysparm_display_value: 'true',
    sysparm_exclude_reference_link: 'true',
  });
  return `${endpoint}/api/now/table/${table}?${params.toString()}`;
}

export const FIELDS = { incident: INCIDENT_FIELDS, detail: INCIDENT_DETAIL_FIELDS, change: CHANGE_FIELDS, ci: CI_FIELDS };
