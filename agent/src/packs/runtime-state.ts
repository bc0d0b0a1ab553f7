import type { RuntimeStatus } from '../runtime/status-file.js';
import type { PackListing } from './store.js';

const STATES = new Set<PackListing['state']>(['active', 'pending', 'failed']);

/**
 * The store can only say a pack is approved and verifies; whether its process
 * started is known to the running agent alone, which publishes it in
 * status.json and sends the same statuses to the hub. While an agent runs, its
 * word on an approved version wins, so `sonde packs list`, `sonde status`, REST
 * and MCP show one state.
 */
export function withRuntimeState(listings: PackListing[], live: { status: RuntimeStatus; alive: boolean } | undefined): PackListing[] {
  if (!live?.alive || !live.status.running) return listings;
  const runtime = new Map(live.status.packs.map((pack) => [pack.name, pack]));
  return listings.map((listing) => {
    const running = runtime.get(listing.name);
    if (listing.state !== 'active' || !running || running.version !== listing.version) return listing;
    const state = running.state as PackListing['state'];
    if (state === listing.state || !STATES.has(state)) return listing;
    return { ...listing, state, ...(running.reason ? { reason: running.reason } : {}) };
  });
}
