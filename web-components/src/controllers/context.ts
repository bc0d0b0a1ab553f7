import { createContext } from '@lit/context';
import type { HubClient } from './hub-client.js';

/** Shared by `<sonde-provider>` and `<sonde-app>` with every element below them. */
export const hubClientContext = createContext<HubClient | undefined>(Symbol.for('sonde.hub-client'));
