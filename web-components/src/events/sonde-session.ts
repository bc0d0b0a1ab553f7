/** The dashboard session started (login) or ended (logout). */
export interface SondeSessionDetail {
  state: 'login' | 'logout';
  name?: string;
}
declare global {
  interface GlobalEventHandlersEventMap {
    'sonde-session': CustomEvent<SondeSessionDetail>;
  }
}
