// A lean MCP caller for load tests: plain JSON-RPC POSTs to the stateless
// /mcp endpoint (keep-alive fetch), so the load generator in this process
// costs the shared 2 cores as little as possible.
let nextId = 1;

/** `revision: '2026-07-28'` speaks the stateless revision: the `_meta` envelope and Mcp-Method header on every request. */
export function rawCaller(hub, key, { session, revision = '2025-06-18' } = {}) {
  const headers = {
    authorization: `Bearer ${key}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': revision,
  };
  const modern = revision >= '2026-07-28';
  const envelope = {
    'io.modelcontextprotocol/protocolVersion': revision,
    'io.modelcontextprotocol/clientInfo': { name: 'sonde-bench', version: '1.0.0' },
    'io.modelcontextprotocol/clientCapabilities': {},
  };
  const post = async (method, params) => {
    const response = await fetch(`${hub.url}/mcp`, {
      method: 'POST',
      headers: {
        ...headers,
        ...session,
        ...(modern ? { 'mcp-method': method, ...(method === 'tools/call' ? { 'mcp-name': params.name } : {}) } : {}),
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params: modern ? { ...params, _meta: envelope } : params }),
      signal: globalThis.AbortSignal.timeout(120_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method}: HTTP ${response.status} ${text.slice(0, 300)}`);
    return { response, body: JSON.parse(text) };
  };
  return {
    post,
    async call(name, args) {
      const { body } = await post('tools/call', { name, arguments: args });
      if (body.error || body.result?.isError) throw new Error(`${name}: ${JSON.stringify(body).slice(0, 300)}`);
      return body.result;
    },
    /** Runs initialize and returns the session headers the hub handed out (client id), if any. */
    async initialize(clientName = 'sonde-bench') {
      const { response } = await post('initialize', {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: clientName, version: '1.0.0' },
      });
      const out = {};
      response.headers.forEach((value, name) => {
        if (name.toLowerCase() === 'mcp-session-id') out[name] = value;
      });
      return out;
    },
  };
}

/** `callers` loops calling `fn` until `durationMs` passes; returns calls/s and per-call latencies. */
export async function closedLoop(callers, durationMs, fn) {
  const deadline = performance.now() + durationMs;
  const samples = [];
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async (_, c) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          await fn(c);
          samples.push(performance.now() - t0);
        } catch (error) {
          errors += 1;
          if (errors === 1) process.stderr.write(`bench: call failed: ${error.message}\n`);
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { perSecond: samples.length / elapsed, calls: samples.length, errors, samples };
}
