import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { MessagePayload } from '@sonde/pack-sdk/protocol';
import type { Logger } from 'pino';
import { AgentError } from '../errors.js';
import { writePrivateFile, type HomePaths } from '../home.js';
import { readPackEvents, recordPackEvent, type PackEvent } from '../packs/events.js';
import { pruneVersions } from '../packs/install.js';
import {
  approvalFor,
  isRejected,
  PACK_REJECTED_CODE,
  readApprovals,
  readRejections,
  resolvePacks,
  writeApprovals,
  writeRejections,
} from '../packs/store.js';
import { acceptRevocations, loadAgentTrust } from '../packs/trust.js';

/**
 * What the hub may ask of the agent's packs, and what the agent tells the
 * hub about them. The hub never installs code: it can push its signed
 * revocation list and relay an admin's approval of a candidate the agent has
 * already verified itself, pinned to the exact version and permissions
 * digest the admin saw.
 */

type ApproveRequest = MessagePayload<'hub.packs.approve'>;
type ApproveResult = MessagePayload<'agent.packs.approve.result'>;
type RejectRequest = MessagePayload<'hub.packs.reject'>;
type RejectResult = MessagePayload<'agent.packs.reject.result'>;

export async function approveFromHub(paths: HomePaths, packsDir: string, request: ApproveRequest): Promise<ApproveResult> {
  const refuse = (code: string, message: string): ApproveResult => ({ requestId: request.requestId, ok: false, error: { code, message } });
  let resolutions;
  try {
    resolutions = await resolvePacks(paths, packsDir, loadAgentTrust(paths));
  } catch (error) {
    return refuse(error instanceof AgentError ? error.code : 'SONDE_ERR_INTERNAL', (error as Error).message);
  }
  const resolution = resolutions.find((entry) => entry.listing.name === request.pack);
  if (!resolution) return refuse('SONDE_ERR_PACK_NOT_FOUND', `pack ${request.pack} is not installed on this agent`);
  if (resolution.rejectedCandidate && isRejected(request, resolution.listing.rejected))
    return refuse(
      PACK_REJECTED_CODE,
      `${request.pack} ${request.version} was rejected by ${resolution.listing.rejected?.by ?? 'an admin'}; it stays rejected until another version is installed`,
    );
  const candidate = resolution.candidate;
  if (!candidate) return refuse('SONDE_ERR_NOTHING_PENDING', `pack ${request.pack} has no verified version awaiting approval`);
  if (candidate.version !== request.version || candidate.permissionsSha256 !== request.permissionsSha256) {
    return refuse(
      'SONDE_ERR_APPROVAL_MISMATCH',
      `the approval names ${request.version} (${request.permissionsSha256.slice(0, 12)}…) but this agent's candidate is ${candidate.version} (${candidate.permissionsSha256.slice(0, 12)}…)`,
    );
  }
  const approvals = readApprovals(paths);
  const previous = approvals.packs[candidate.name]?.version;
  approvals.packs[candidate.name] = approvalFor(candidate, request.by);
  writeApprovals(paths, approvals);
  pruneVersions(packsDir, candidate.packageName, [candidate.version]);
  recordPackEvent(paths, {
    action: 'approve',
    pack: candidate.name,
    version: candidate.version,
    outcome: 'approved',
    integrity: candidate.integrity,
    by: request.by,
    ...(previous ? { from: previous } : {}),
  });
  return { requestId: request.requestId, ok: true };
}

/**
 * An admin rejected the version a pack holds pending, after reading the same
 * diff an approval would cover: recorded only if this agent's own verified
 * candidate has exactly that version and permissions digest. The candidate's
 * files stay (a local `sonde packs approve` may still take it); it is never
 * loaded and no longer offered for approval until another version arrives.
 */
export async function rejectFromHub(paths: HomePaths, packsDir: string, request: RejectRequest): Promise<RejectResult> {
  const refuse = (code: string, message: string): RejectResult => ({ requestId: request.requestId, ok: false, error: { code, message } });
  let resolutions;
  try {
    resolutions = await resolvePacks(paths, packsDir, loadAgentTrust(paths));
  } catch (error) {
    return refuse(error instanceof AgentError ? error.code : 'SONDE_ERR_INTERNAL', (error as Error).message);
  }
  const resolution = resolutions.find((entry) => entry.listing.name === request.pack);
  if (!resolution) return refuse('SONDE_ERR_PACK_NOT_FOUND', `pack ${request.pack} is not installed on this agent`);
  // The same rejection again (a retry after a lost answer) changes nothing and succeeds.
  if (resolution.rejectedCandidate && isRejected(request, resolution.listing.rejected)) return { requestId: request.requestId, ok: true };
  const candidate = resolution.candidate;
  if (!candidate || candidate === resolution.serving)
    return refuse('SONDE_ERR_NOTHING_PENDING', `pack ${request.pack} has no verified version awaiting approval`);
  if (candidate.version !== request.version || candidate.permissionsSha256 !== request.permissionsSha256) {
    return refuse(
      'SONDE_ERR_APPROVAL_MISMATCH',
      `the rejection names ${request.version} (${request.permissionsSha256.slice(0, 12)}…) but this agent's candidate is ${candidate.version} (${candidate.permissionsSha256.slice(0, 12)}…)`,
    );
  }
  const rejections = readRejections(paths);
  rejections.packs[candidate.name] = {
    version: candidate.version,
    permissionsSha256: candidate.permissionsSha256,
    integrity: candidate.integrity,
    rejectedAt: new Date().toISOString(),
    by: request.by,
  };
  writeRejections(paths, rejections);
  recordPackEvent(paths, {
    action: 'reject',
    pack: candidate.name,
    version: candidate.version,
    outcome: 'rejected',
    integrity: candidate.integrity,
    by: request.by,
    ...(resolution.serving ? { from: resolution.serving.version } : {}),
  });
  return { requestId: request.requestId, ok: true };
}

/** Applies a pushed revocation list; true when it changed what the agent holds. */
export function applyRevocations(paths: HomePaths, list: unknown, log: Logger): { changed: boolean; error?: string } {
  try {
    const { changed, list: held } = acceptRevocations(paths, list);
    if (changed) {
      recordPackEvent(paths, {
        action: 'revocations',
        pack: '*',
        outcome: 'synced',
        detail: `serial ${held.serial}: ${held.keys.length} keys, ${held.packs.length} pack versions`,
        by: 'hub',
      });
      log.info({ serial: held.serial }, 'revocation list updated from the hub; re-verifying every pack');
    }
    return { changed };
  } catch (error) {
    const message = (error as Error).message;
    log.error({ err: message }, 'revocation list from the hub refused');
    return { changed: false, error: message };
  }
}

/** Forwards pack events the hub has not seen yet; the marker file remembers the last sequence sent. */
export class PackEventForwarder {
  private sent: number;
  private readonly marker: string;

  constructor(
    private readonly paths: HomePaths,
    private readonly send: (events: PackEvent[]) => boolean,
  ) {
    this.marker = path.join(paths.home, 'pack-events.sent');
    this.sent = existsSync(this.marker) ? Number(readFileSync(this.marker, 'utf8').trim()) : -1;
    if (!Number.isInteger(this.sent)) this.sent = -1;
  }

  flush(): number {
    const fresh = readPackEvents(this.paths).filter((event) => event.seq > this.sent);
    let forwarded = 0;
    for (let i = 0; i < fresh.length; i += 500) {
      const batch = fresh.slice(i, i + 500);
      if (!this.send(batch)) break;
      this.sent = batch.at(-1)!.seq;
      forwarded += batch.length;
      writePrivateFile(this.marker, `${this.sent}\n`);
    }
    return forwarded;
  }
}
