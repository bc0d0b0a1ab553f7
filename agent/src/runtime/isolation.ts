/** Probes run inside the agent process through the permission-checked host context; no OS sandbox yet. */
export const ISOLATION = 'in-process: permission-checked ProbeContext (exec/read/http guards, agent files denied); no OS sandbox';
