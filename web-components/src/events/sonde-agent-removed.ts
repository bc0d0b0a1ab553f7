/** An admin removed an agent (its certificate and key are revoked). */
export interface SondeAgentRemovedDetail {
  id: string;
  name: string;
}
declare global {
  interface GlobalEventHandlersEventMap {
    'sonde-agent-removed': CustomEvent<SondeAgentRemovedDetail>;
  }
}
