/** Parser for the ngx_http_stub_status_module page. */

export interface StubStatus {
  active: number;
  accepts: number;
  handled: number;
  requests: number;
  reading: number;
  writing: number;
  waiting: number;
}

export function parseStubStatus(body: string): StubStatus | undefined {
  const active = /Active connections:\s*(\d+)/.exec(body);
  const totals = /server accepts handled requests\s*\n\s*(\d+)\s+(\d+)\s+(\d+)/.exec(body);
  const rww = /Reading:\s*(\d+)\s+Writing:\s*(\d+)\s+Waiting:\s*(\d+)/.exec(body);
  if (!active || !totals || !rww) return undefined;
  return {
    active: Number(active[1]),
    accepts: Number(totals[1]),
    handled: Number(totals[2]),
    requests: Number(totals[3]),
    reading: Number(rww[1]),
    writing: Number(rww[2]),
    waiting: Number(rww[3]),
  };
}
