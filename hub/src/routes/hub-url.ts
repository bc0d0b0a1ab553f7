import type { FastifyRequest } from 'fastify';
import type { HubContext } from '../context.js';

/** The URL agents and clients should use: SONDE_PUBLIC_URL, else what this request reached. */
export function hubUrlFor(hub: HubContext, request?: FastifyRequest): string {
  if (hub.config.publicUrl) return hub.config.publicUrl;
  const scheme = hub.config.tls.mode === 'off' ? 'http' : 'https';
  if (request?.headers.host) return `${scheme}://${request.headers.host}`;
  return hub.services.config.publicUrl;
}

export function wsUrlFor(hubUrl: string): string {
  return `${hubUrl.replace(/^http/, 'ws')}/ws/agent`;
}

export function enrollCommand(hubUrl: string, token: string, name?: string | null): string {
  return ['sonde enroll', `--hub ${hubUrl}`, `--token ${token}`, ...(name ? [`--name ${name}`] : [])].join(' ');
}
