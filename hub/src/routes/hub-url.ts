import type { FastifyRequest } from 'fastify';
import type { HubConfig } from '../config.js';
import type { HubServices } from '../services.js';
import type { SettingsStore } from '../store/types.js';

/**
 * The URL the running hub serves, recorded at each start so that headless
 * commands (`sonde-hub tokens create`) print the hub's real address, not a guess
 * from the CLI's own environment. Empty when the hub listens on a wildcard
 * address without SONDE_PUBLIC_URL: no URL an agent could use is known then.
 */
export const SERVED_URL_SETTING = 'hub.served_url';

/** True when `url` names a host an agent can dial (not 0.0.0.0 or ::). */
export function isDialable(url: string): boolean {
  const host = new URL(url).hostname;
  return host !== '0.0.0.0' && host !== '[::]' && host !== '::';
}

export async function recordServedUrl(settings: SettingsStore, url: string): Promise<void> {
  await settings.set(SERVED_URL_SETTING, isDialable(url) ? url.replace(/\/+$/, '') : '');
}

export async function readServedUrl(settings: SettingsStore): Promise<string | undefined> {
  return (await settings.get(SERVED_URL_SETTING)) || undefined;
}

/** The URL agents and clients should use: SONDE_PUBLIC_URL, else what this request reached. */
export function hubUrlFor(config: HubConfig, services: HubServices, request?: FastifyRequest): string {
  if (config.publicUrl) return config.publicUrl;
  const scheme = config.tls.mode === 'off' ? 'http' : 'https';
  if (request?.headers.host) return `${scheme}://${request.headers.host}`;
  return services.config.publicUrl;
}

export function wsUrlFor(hubUrl: string): string {
  return `${hubUrl.replace(/^http/, 'ws')}/ws/agent`;
}

export function enrollCommand(hubUrl: string, token: string, name?: string | null): string {
  return ['sonde enroll', `--hub ${hubUrl}`, `--token ${token}`, ...(name ? [`--name ${name}`] : [])].join(' ');
}
