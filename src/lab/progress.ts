// Build progress: one rewritten status line with a step counter on a terminal, plain
// timestamped lines otherwise (CI logs, pipes).
export interface Progress {
  step(text: string): void;
  done(text: string): void;
}

export function createProgress(
  total: number,
  out: NodeJS.WriteStream = process.stderr,
  quiet = false,
): Progress {
  const start = Date.now();
  let n = 0;
  const secs = () => ((Date.now() - start) / 1000).toFixed(1).padStart(5);
  if (quiet) return { step: () => {}, done: () => {} };
  if (out.isTTY) {
    const bar = (k: number) => {
      const w = 20;
      const fill = Math.round((Math.min(k, total) / Math.max(total, 1)) * w);
      return `[${'#'.repeat(fill)}${'.'.repeat(w - fill)}]`;
    };
    return {
      step(text) {
        n++;
        out.write(`\r\x1b[2K${bar(n - 1)} ${secs()}s ${n}/${total} ${text}`);
      },
      done(text) {
        out.write(`\r\x1b[2K${bar(total)} ${secs()}s ${text}\n`);
      },
    };
  }
  return {
    step(text) {
      n++;
      out.write(`[${secs()}s] (${n}/${total}) ${text}\n`);
    },
    done(text) {
      out.write(`[${secs()}s] ${text}\n`);
    },
  };
}
