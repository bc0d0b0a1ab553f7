/** A probe run from `<sonde-probe>` answered (any status). */
export interface SondeProbeResultDetail {
  agent: string;
  probe: string;
  status: 'ok' | 'error' | 'timeout' | 'denied' | 'offline';
  durationMs: number;
  truncated: boolean;
}
declare global {
  interface GlobalEventHandlersEventMap {
    'sonde-probe-result': CustomEvent<SondeProbeResultDetail>;
  }
}
