/**
 * Schemas a pack declares reach the hub from an agent. The hub compiles them
 * (ajv) to decide whether a result may go out as `structuredContent`, and ajv
 * turns `pattern` and `patternProperties` into JavaScript regular expressions,
 * which backtrack: one agent could freeze the hub's event loop with
 * `{"pattern": "^(a+)+$"}` and a long string in its own result. So no regular
 * expression an agent wrote is ever compiled here: `pattern`,
 * `patternProperties` and `propertyNames` are dropped (a node that had
 * `patternProperties` then allows any further property), `format` is kept only
 * for a few formats ajv-formats checks with fixed, anchored expressions, and
 * nesting deeper than MAX_SCHEMA_DEPTH constrains nothing. The schema
 * published to clients as `outputSchema` is this same schema, so a result the
 * hub accepts is one a client's validator accepts.
 */

export const MAX_SCHEMA_DEPTH = 32;
const SAFE_FORMATS = new Set(['date-time', 'date', 'time', 'uuid', 'ipv4', 'ipv6', 'hostname', 'email', 'uri']);
const DROPPED = new Set(['pattern', 'patternProperties', 'propertyNames']);
/** Keywords whose value is a map from names (data) to schemas. */
const SCHEMA_MAPS = new Set(['properties', '$defs', 'definitions', 'dependentSchemas']);
/** Keywords whose value is a schema or a list of schemas. */
const SUBSCHEMAS = new Set([
  'items',
  'prefixItems',
  'additionalItems',
  'additionalProperties',
  'unevaluatedProperties',
  'unevaluatedItems',
  'contains',
  'not',
  'if',
  'then',
  'else',
  'allOf',
  'anyOf',
  'oneOf',
]);

/** A copy of `schema` with no regular expression and no format ajv would check with a complex one. */
export function withoutRegex(schema: unknown, depth = 0): unknown {
  if (typeof schema === 'boolean') return schema;
  if (!schema || typeof schema !== 'object' || Array.isArray(schema) || depth > MAX_SCHEMA_DEPTH) return {};
  const source = schema as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    if (DROPPED.has(key)) continue;
    if (key === 'format') {
      if (typeof value === 'string' && SAFE_FORMATS.has(value)) out.format = value;
    } else if (SCHEMA_MAPS.has(key) && value && typeof value === 'object' && !Array.isArray(value)) {
      const map: Record<string, unknown> = {};
      for (const [name, sub] of Object.entries(value)) map[name] = withoutRegex(sub, depth + 1);
      out[key] = map;
    } else if (key === 'dependencies' && value && typeof value === 'object' && !Array.isArray(value)) {
      // draft-07: each entry is a list of names (kept) or a schema.
      const map: Record<string, unknown> = {};
      for (const [name, sub] of Object.entries(value)) map[name] = Array.isArray(sub) ? sub : withoutRegex(sub, depth + 1);
      out[key] = map;
    } else if (SUBSCHEMAS.has(key)) {
      out[key] = Array.isArray(value) ? value.map((sub) => withoutRegex(sub, depth + 1)) : withoutRegex(value, depth + 1);
    } else {
      // enum, const, required, description, type, bounds…: values, never compiled into code that backtracks.
      out[key] = value;
    }
  }
  if ('patternProperties' in source && out.additionalProperties === false) out.additionalProperties = true;
  return out;
}
