/**
 * The shapes the hub's REST API returns, named for the elements. Each is taken
 * from `api.gen.ts`, which scripts/api-types.mjs generates (openapi-typescript)
 * from the hub's OpenAPI document, itself derived from the zod schemas the
 * hub's routes are declared with: nothing here is written by hand except the
 * JSON Schema subset the probe form reads. The web components may not import
 * hub code; they meet the hub only over HTTP, and a route change that breaks
 * an element now fails the type check instead of the browser.
 */
import type { operations } from './api.gen.js';

type Responses<O extends keyof operations> = operations[O]['responses'];
/** The JSON body of an operation's success answer (200 or 201). */
type Ok<O extends keyof operations> =
  Responses<O> extends { 200: { content: { 'application/json': infer T } } }
    ? T
    : Responses<O> extends { 201: { content: { 'application/json': infer T } } }
      ? T
      : never;

export type AgentView = Ok<'getApiV1Agents'>[number];
export type AgentStatus = AgentView['status'];
export type PackStatus = AgentView['packs'][number];
export type AgentDetail = Ok<'getApiV1AgentsId'>;
export type ProbeManifest = NonNullable<PackStatus['manifest']>['probes'][number];
export type ApiKeyView = Ok<'getApiV1ApiKeys'>[number];
export type KeyPolicy = ApiKeyView['policy'];
export type TokenView = Ok<'getApiV1EnrollmentTokens'>[number];
export type AuditRecord = Ok<'getApiV1Audit'>['entries'][number];
export type VerifyResult = Ok<'getApiV1AuditVerify'>;
export type AuditExportStatus = Ok<'getApiV1AuditExport'>;
export type ProbeAnswer = Ok<'postApiV1Probes'>;
export type Me = Ok<'getApiV1AuthMe'>;
export type UserView = Ok<'getApiV1Users'>[number];
export type IntegrationPackView = Ok<'getApiV1IntegrationsPacks'>[number];
export type IntegrationInstanceView = Ok<'getApiV1IntegrationsInstances'>[number];
/** A probe call as an embed token sees it (`/api/v1/embed/probe-calls`): no caller, parameters or details. */
export type ProbeCall = Ok<'getApiV1EmbedProbeCalls'>['entries'][number];
/** What the trends and an agent's recent activity read from either the audit log or, embedded, the probe calls. */
export type CallRecord = Pick<AuditRecord, 'seq' | 'at' | 'action' | 'status' | 'durationMs'> & {
  probe?: string | null;
  agents?: string[];
  actor?: AuditRecord['actor'];
};

/** A route that lost its response schema would turn an alias into `never` and type-check anything: this refuses that. */
type Resolved<T> = [T] extends [never] ? false : true;
type AllResolved = [
  Resolved<AgentView>,
  Resolved<PackStatus>,
  Resolved<AgentDetail>,
  Resolved<ProbeManifest>,
  Resolved<ApiKeyView>,
  Resolved<TokenView>,
  Resolved<AuditRecord>,
  Resolved<VerifyResult>,
  Resolved<AuditExportStatus>,
  Resolved<ProbeAnswer>,
  Resolved<Me>,
  Resolved<UserView>,
  Resolved<ProbeCall>,
  Resolved<IntegrationPackView>,
  Resolved<IntegrationInstanceView>,
] extends true[]
  ? true
  : false;
export const API_TYPES_RESOLVED: AllResolved = true;

/** The subset of JSON Schema the probe form understands. */
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  additionalProperties?: boolean | JsonSchema;
}
