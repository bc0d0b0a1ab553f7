import type { SondeAgentRemovedDetail } from './sonde-agent-removed.js';
import type { SondeAgentSelectDetail } from './sonde-agent-select.js';
import type { SondeKeyChangeDetail } from './sonde-key-change.js';
import type { SondeProbeResultDetail } from './sonde-probe-result.js';
import type { SondeSessionDetail } from './sonde-session.js';

export type { SondeAgentRemovedDetail, SondeAgentSelectDetail, SondeKeyChangeDetail, SondeProbeResultDetail, SondeSessionDetail };

/** Every event a Sonde element dispatches, by name, with its `detail`. */
export interface SondeEventMap {
  'sonde-agent-select': SondeAgentSelectDetail;
  'sonde-agent-removed': SondeAgentRemovedDetail;
  'sonde-key-change': SondeKeyChangeDetail;
  'sonde-probe-result': SondeProbeResultDetail;
  'sonde-session': SondeSessionDetail;
}
