/** Parser for `docker container logs --timestamps` lines: `RFC3339Nano message`. */

export interface ContainerLogLine {
  time: string | null;
  stream: 'stdout' | 'stderr';
  message: string;
}

export function parseLogLines(text: string, stream: 'stdout' | 'stderr'): ContainerLogLine[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line) => {
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ?(.*)$/.exec(line);
    return m ? { time: m[1], stream, message: m[2] } : { time: null, stream, message: line };
  });
}

/** Interleaves the container's stdout and stderr by timestamp (RFC 3339 in UTC sorts as text). */
export function mergeByTime(a: ContainerLogLine[], b: ContainerLogLine[]): ContainerLogLine[] {
  return [...a, ...b]
    .map((line, index) => ({ line, index }))
    .sort((x, y) => (x.line.time ?? '').localeCompare(y.line.time ?? '') || x.index - y.index)
    .map((x) => x.line);
}
