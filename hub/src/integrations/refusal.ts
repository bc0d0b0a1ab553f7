import type { VerifyFailure } from '@sonde/registry';
import { HubError } from '../errors.js';
import { isIntegrationErrorCode } from './codes.js';
import type { Refusal } from './types.js';

/** Why a pack version does not serve, from the registry's verification result. */
export function refusalOf(failure: VerifyFailure): Refusal {
  return { code: failure.code, reason: failure.reason, ...(failure.file ? { file: failure.file } : {}) };
}

/** A refusal as the error an API caller gets: the integration codes as they are, anything else as a bad request. */
export function throwRefusal(refusal: Refusal): never {
  if (isIntegrationErrorCode(refusal.code)) throw new HubError(refusal.code, `${refusal.code}: ${refusal.reason}`);
  throw new HubError('SONDE_ERR_BAD_REQUEST', `${refusal.code}: ${refusal.reason}`);
}
