/**
 * REST error codes of the integration routes. A refused pack answers with the
 * registry's own stable code (`SONDE_ERR_PACK_UNSIGNED`, …) and its reason, so
 * operators see the same code from `sonde-registry verify`, the agent and the
 * hub. Spread into HubErrors (hub/src/errors.ts); docs/errors/hub.md lists them.
 */
export const IntegrationErrors = {
  // Refusals from @sonde/registry (verification at install and at every load).
  SONDE_ERR_PACK_UNSIGNED: { status: 422, message: 'The pack carries no sonde-signature.json; unsigned packs are always refused.' },
  SONDE_ERR_PACK_MALFORMED: { status: 422, message: 'The pack or its signature file cannot be read or has the wrong format.' },
  SONDE_ERR_PACK_BAD_SIGNATURE: { status: 422, message: 'The pack signature does not verify against the publisher key.' },
  SONDE_ERR_PACK_UNKNOWN_KEY: { status: 422, message: 'The pack is signed by a key that is not in the hub trust store.' },
  SONDE_ERR_PACK_MANIFEST_MISMATCH: { status: 422, message: 'sonde-pack.json differs from the manifest that was signed.' },
  SONDE_ERR_PACK_FILE_CHANGED: { status: 422, message: 'A file of the pack differs from its signed digest.' },
  SONDE_ERR_PACK_FILE_ADDED: { status: 422, message: 'The pack contains a file that was not signed.' },
  SONDE_ERR_PACK_FILE_REMOVED: { status: 422, message: 'A signed file is missing from the pack.' },
  SONDE_ERR_PACK_KEY_NOT_VALID: { status: 422, message: 'The signing key was outside its validity window at the signed publish time.' },
  SONDE_ERR_PACK_KEY_REVOKED: { status: 422, message: 'The signing key is revoked.' },
  SONDE_ERR_PACK_VERSION_REVOKED: { status: 422, message: 'This pack version is revoked.' },
  SONDE_ERR_PACK_DENIED: { status: 422, message: 'A deny rule of the trust policy matches this pack or version.' },
  SONDE_ERR_PACK_NOT_ALLOWED: { status: 422, message: 'No allow rule or pin of the trust policy covers this pack.' },
  SONDE_ERR_PACK_PIN_MISMATCH: { status: 422, message: 'The pack content differs from the integrity pinned for this version.' },
  SONDE_ERR_TRUST_INVALID: { status: 422, message: 'The hub trust store (SONDE_TRUST_FILE) is unreadable or invalid.' },
  SONDE_ERR_DOWNGRADE: { status: 409, message: 'The version is older than the approved one; ask for it explicitly (allowDowngrade).' },
  SONDE_ERR_FETCH_FAILED: { status: 502, message: 'npm could not fetch the package tarball (registry, spec or network).' },
  SONDE_ERR_PACK_VERSION_CONFLICT: { status: 409, message: 'This pack version is already installed with other content.' },
  // The hub's own.
  SONDE_ERR_PACK_NOT_INTEGRATION: { status: 422, message: "The pack is not an integration pack (manifest kind must be 'integration')." },
  SONDE_ERR_INTEGRATION_NOT_FOUND: { status: 404, message: 'No such integration pack.' },
  SONDE_ERR_INSTANCE_NOT_FOUND: { status: 404, message: 'No such integration instance.' },
} as const satisfies Record<`SONDE_ERR_${string}`, { status: number; message: string }>;

export type IntegrationErrorCode = keyof typeof IntegrationErrors;

export function isIntegrationErrorCode(code: string): code is IntegrationErrorCode {
  return code in IntegrationErrors;
}
