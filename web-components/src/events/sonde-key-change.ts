/** An API key was created, rotated or revoked. The raw value never travels in an event. */
export interface SondeKeyChangeDetail {
  action: 'create' | 'rotate' | 'revoke';
  id: string;
  name: string;
}
declare global {
  interface GlobalEventHandlersEventMap {
    'sonde-key-change': CustomEvent<SondeKeyChangeDetail>;
  }
}
