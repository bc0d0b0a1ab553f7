/**
 * Progress of a long command on stderr (stdout keeps the result): on a terminal one line rewritten in place (at most
 * ten times a second), otherwise a plain line each time another tenth is done, so a log gets at most eleven lines.
 */
export interface Progress {
  update(done: number, total: number): void;
  /** Clears the line on a terminal. */
  end(): void;
}

export function progressReporter(label: string, unit: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = stream.isTTY === true;
  let lastWrite = 0;
  let nextTenth = 1;
  let shown = false;
  const text = (done: number, total: number, percent: number): string =>
    `${label}: ${done.toLocaleString('en')} of ${total.toLocaleString('en')} ${unit} (${percent} %)`;
  return {
    update(done, total) {
      if (total <= 0) return;
      const percent = Math.min(100, Math.floor((done / total) * 100));
      if (tty) {
        const now = Date.now();
        if (now - lastWrite < 100 && done < total) return;
        lastWrite = now;
        shown = true;
        stream.write(`\r\x1b[K${text(done, total, percent)}`);
        return;
      }
      if (percent < nextTenth * 10) return;
      nextTenth = Math.floor(percent / 10) + 1;
      stream.write(`${text(done, total, percent)}\n`);
    },
    end() {
      if (tty && shown) stream.write('\r\x1b[K');
    },
  };
}
