export { createHubMetrics, instrumentDispatcher, MAX_PACK_LABELS, type ExportSinkState, type HubMetrics } from './hub-metrics.js';
export { metricsRoutes, READY_MAX_AUDIT_QUEUE } from './routes.js';
