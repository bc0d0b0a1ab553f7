import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import { ConfigError } from '../../config.js';
import type { AuditRecord } from '../../services.js';
import type { ExportSink } from './exporter.js';

/**
 * Audit entries as RFC 5424 syslog messages over UDP (RFC 5426), TCP (RFC 6587
 * octet counting) or TLS (RFC 5425). One message per entry:
 *
 *   <PRI>1 TIMESTAMP HOST sonde-hub PID ACTION [sonde@32473 seq="…" hash="…" status="…"] BOM{entry as JSON}
 *
 * PRI is the facility (default 13, "log audit") times 8 plus the severity
 * (info for ok, warning for denied, notice for anything else). The structured
 * data carries the seq and chain hash, so a collector can check that nothing is
 * missing and keep the heads as an outside witness. 32473 is the Private
 * Enterprise Number RFC 5612 reserves for examples (Sonde has none of its own).
 *
 * What "acknowledged" means here: for TCP and TLS, the bytes were accepted by
 * this host's kernel (the write completed); syslog has no application-level
 * acknowledgement, so a connection cut while those bytes are in flight may lose
 * them (a collector that closes its side first is noticed, and the next batch
 * waits for a new connection). For UDP, the datagram was sent. The webhook
 * sink is the one with a real acknowledgement.
 */

export interface SyslogSinkOptions {
  protocol: 'udp' | 'tcp' | 'tls';
  host: string;
  port: number;
  /** PEM file of the CA that signed the collector's certificate (TLS); else the system's CAs. */
  caFile?: string | undefined;
  facility?: number;
  /** Connect and write timeout (default 10 s). */
  timeoutMs?: number;
}

/** An SD-ID from RFC 5612's example enterprise number. */
export const SYSLOG_SD_ID = 'sonde@32473';
/** A UDP datagram's payload at most (IPv4: 65,507 bytes); a longer message is cut (RFC 5426 allows it). */
const UDP_MAX_BYTES = 65_000;

const severityOf = (status: AuditRecord['status']): number => (status === 'ok' ? 6 : status === 'denied' ? 4 : 5);

/** PRINTUSASCII (%d33-126), at most `max` characters, '-' when empty (HOSTNAME, APP-NAME, MSGID). */
function headerField(value: string, max: number): string {
  const cleaned = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return cleaned === '' ? '-' : cleaned;
}

/** PARAM-VALUE: '"', '\' and ']' escaped with a backslash (RFC 5424 6.3.3). */
const paramValue = (value: string): string => value.replace(/["\\\]]/g, (c) => `\\${c}`);

const HOST = headerField(hostname(), 255);

/** One entry as an RFC 5424 message (without transport framing). */
export function syslogMessage(entry: AuditRecord, facility = 13): string {
  const pri = facility * 8 + severityOf(entry.status);
  const sd = `[${SYSLOG_SD_ID} seq="${entry.seq}" hash="${paramValue(entry.hash)}" status="${paramValue(entry.status)}"]`;
  return `<${pri}>1 ${entry.at} ${HOST} sonde-hub ${process.pid} ${headerField(entry.action, 32)} ${sd} \uFEFF${JSON.stringify(entry)}`;
}

export class SyslogSink implements ExportSink {
  readonly name = 'syslog';
  private socket: Socket | undefined;
  private udp: UdpSocket | undefined;
  private readonly ca: Buffer | undefined;
  private readonly timeoutMs: number;
  private closed = false;

  constructor(private readonly options: SyslogSinkOptions) {
    try {
      this.ca = options.caFile ? readFileSync(options.caFile) : undefined;
    } catch (error) {
      throw new ConfigError([`SONDE_AUDIT_SYSLOG_CA cannot be read: ${(error as Error).message}`]);
    }
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async deliver(entries: AuditRecord[]): Promise<void> {
    if (this.closed) throw new Error('the syslog sink is closed');
    const messages = entries.map((entry) => Buffer.from(syslogMessage(entry, this.options.facility)));
    if (this.options.protocol === 'udp') return this.sendUdp(messages);
    const socket = await this.connected();
    // RFC 6587 octet counting: "LEN SP MSG", LEN the message's length in bytes.
    const frame = Buffer.concat(messages.flatMap((message) => [Buffer.from(`${message.length} `), message]));
    await this.write(socket, frame);
  }

  private sendUdp(messages: Buffer[]): Promise<void> {
    const udp = (this.udp ??= createSocket(isIP(this.options.host) === 6 ? 'udp6' : 'udp4'));
    return messages.reduce<Promise<void>>(
      (previous, message) =>
        previous.then(
          () =>
            new Promise<void>((resolve, reject) =>
              udp.send(message.subarray(0, UDP_MAX_BYTES), this.options.port, this.options.host, (error) =>
                error ? reject(error) : resolve(),
              ),
            ),
        ),
      Promise.resolve(),
    );
  }

  /** The open stream, or a new connection (after an error the old one is dropped and the batch goes again). */
  private connected(): Promise<Socket> {
    const current = this.socket;
    if (current && !current.destroyed && current.writable) return Promise.resolve(current);
    const { protocol, host, port } = this.options;
    return new Promise<Socket>((resolve, reject) => {
      const socket =
        protocol === 'tls'
          ? tlsConnect({ host, port, ca: this.ca, servername: isIP(host) ? undefined : host, minVersion: 'TLSv1.2' })
          : netConnect({ host, port });
      const ready = protocol === 'tls' ? 'secureConnect' : 'connect';
      const timer = setTimeout(
        () => socket.destroy(new Error(`no connection to ${host}:${port} within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      const fail = (error: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      socket.once('error', fail);
      socket.once(ready, () => {
        clearTimeout(timer);
        socket.off('error', fail);
        // Later errors end this socket, and so does the collector closing its side (a restart): writing on into a
        // half-closed connection would be accepted by the kernel and lost. The next delivery connects again.
        socket.on('error', () => socket.destroy());
        socket.on('end', () => socket.destroy());
        // A collector sends nothing back; whatever it sends is ignored.
        socket.on('data', () => undefined);
        socket.setKeepAlive(true, 30_000);
        this.socket = socket;
        resolve(socket);
      });
    });
  }

  private write(socket: Socket, frame: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        socket.destroy();
        reject(new Error(`syslog write not accepted within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      const onClose = (): void => {
        cleanup();
        reject(new Error('the syslog connection closed during the write'));
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        socket.off('close', onClose);
      };
      socket.once('close', onClose);
      socket.write(frame, (error) => {
        cleanup();
        if (error) {
          socket.destroy();
          reject(error);
        } else resolve();
      });
    });
  }

  close(): Promise<void> {
    this.closed = true;
    this.socket?.destroy();
    this.udp?.close();
    this.udp = undefined;
    return Promise.resolve();
  }
}
