// pino for the agent: JSON lines when stderr is not a terminal, a compact one-line form
// when a person is watching. Levels follow Felix's logSeverityScreen names.
import { type Logger, pino } from 'pino';

const LEVELS: Readonly<Record<string, string>> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warning: 'warn',
  warn: 'warn',
  error: 'error',
  fatal: 'fatal',
  panic: 'fatal',
  none: 'silent',
};

/** Felix severity ("Warning", "Debug", …) → pino level; undefined when not recognised. */
export function pinoLevel(severity: unknown): string | undefined {
  return typeof severity === 'string' ? LEVELS[severity.trim().toLowerCase()] : undefined;
}

const NAMES: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};

/** One JSON log line as `time LEVEL msg key=value …`. */
export function prettyLine(line: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { time, level, msg, pid: _p, hostname: _h, ...rest } = o;
  const t = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '';
  const extras = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${t} ${NAMES[level as number] ?? String(level)} ${String(msg ?? '')}${extras ? ` ${extras}` : ''}\n`;
}

export function createLogger(level: string, pretty = process.stderr.isTTY === true): Logger {
  const base = { level, base: { pid: process.pid } };
  if (pretty) {
    return pino(base, {
      write(line: string) {
        process.stderr.write(prettyLine(line));
      },
    });
  }
  // Synchronous: the agent logs little, and a fatal exit must not lose its last lines.
  return pino(base, pino.destination({ fd: 2, sync: true }));
}
