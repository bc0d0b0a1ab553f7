import type { AuditExportConfig } from '../../config.js';
import type { HubStore } from '../../store/types.js';
import { AuditExporter, type AuditExporterOptions, type ExportSink } from './exporter.js';
import { OtlpLogSink, WebhookSink } from './http-sinks.js';
import { SyslogSink } from './syslog.js';

export { AuditExporter, cursorSetting, type ExportSink, type ExportSinkStatus } from './exporter.js';
export { OtlpLogSink, otlpLogRecord, WebhookSink, webhookSignature } from './http-sinks.js';
export { SyslogSink, syslogMessage, SYSLOG_SD_ID } from './syslog.js';

/** The sinks the configuration names (none: an empty list). */
export function exportSinks(config: AuditExportConfig): ExportSink[] {
  const sinks: ExportSink[] = [];
  if (config.syslog) sinks.push(new SyslogSink(config.syslog));
  if (config.webhook) sinks.push(new WebhookSink(config.webhook));
  if (config.otlp) sinks.push(new OtlpLogSink(config.otlp));
  return sinks;
}

/** An exporter for the configured sinks, or undefined when none is configured. */
export function createAuditExporter(
  config: AuditExportConfig,
  store: Pick<HubStore, 'audit' | 'settings'>,
  log: AuditExporterOptions['log'],
  tuning: Omit<AuditExporterOptions, 'store' | 'sinks' | 'log'> = {},
): AuditExporter | undefined {
  const sinks = exportSinks(config);
  return sinks.length === 0 ? undefined : new AuditExporter({ store, sinks, log, ...tuning });
}
