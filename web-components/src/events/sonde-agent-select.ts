/** A user picked an agent (a fleet row, a badge). */
export interface SondeAgentSelectDetail {
  id: string;
  name: string;
}
declare global {
  interface GlobalEventHandlersEventMap {
    'sonde-agent-select': CustomEvent<SondeAgentSelectDetail>;
  }
}
