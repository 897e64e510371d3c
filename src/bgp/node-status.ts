// `calicoctl node status` without talking to the speaker: the speaker process writes its
// peers to a JSON file at every state change (atomically, by rename) and calicoctl reads
// it and prints Calico's bordered table (calico-dataplane.md §16).
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { PeerStatus, PeerType } from './types.js';

export const DEFAULT_STATUS_FILE = '/var/run/calico/bgp-status.json';

export interface NodeStatusFile {
  /** when the speaker wrote the file */
  updated: Date;
  /** speaker process id, so a reader can tell a stale file from a live speaker */
  pid: number;
  peers: PeerStatus[];
}

export function writeNodeStatus(
  path: string,
  peers: readonly PeerStatus[],
  now = new Date(),
): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ updated: now, pid: process.pid, peers })}\n`);
  renameSync(tmp, path);
}

/** Removes the file on a clean stop, so readers see "not running" rather than old peers. */
export function removeNodeStatus(path: string): void {
  rmSync(path, { force: true });
}

/** The status the speaker last wrote, or undefined when there is no status file. */
export function readNodeStatus(path = DEFAULT_STATUS_FILE): NodeStatusFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let raw: { updated?: unknown; pid?: unknown; peers?: unknown };
  try {
    raw = JSON.parse(text) as typeof raw;
  } catch (e) {
    throw new SyntaxError(`BGP status file ${path} is not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(raw.peers) || typeof raw.updated !== 'string')
    throw new SyntaxError(`BGP status file ${path} has no "updated" time or "peers" list`);
  return {
    updated: new Date(raw.updated),
    pid: typeof raw.pid === 'number' ? raw.pid : 0,
    peers: (raw.peers as Array<PeerStatus & { since: string }>).map((p) => ({
      ...p,
      since: new Date(p.since),
    })),
  };
}

const TYPE_ORDER: Record<PeerType, number> = {
  'node-to-node mesh': 0,
  global: 1,
  'node specific': 2,
};

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** BIRD's `since` column: the time of day when it is today, else the date. */
export function formatSince(since: Date, now: Date, utc = false): string {
  const parts = (d: Date) =>
    utc
      ? [
          d.getUTCFullYear(),
          d.getUTCMonth() + 1,
          d.getUTCDate(),
          d.getUTCHours(),
          d.getUTCMinutes(),
          d.getUTCSeconds(),
        ]
      : [
          d.getFullYear(),
          d.getMonth() + 1,
          d.getDate(),
          d.getHours(),
          d.getMinutes(),
          d.getSeconds(),
        ];
  const [y, mo, d, h, mi, s] = parts(since) as [number, number, number, number, number, number];
  const [ny, nmo, nd] = parts(now);
  if (y === ny && mo === nmo && d === nd) return `${two(h)}:${two(mi)}:${two(s)}`;
  return `${y}-${two(mo)}-${two(d)}`;
}

// Go's tablewriter centres headers with the odd space on the right and left-aligns cells.
function centre(text: string, width: number): string {
  const gap = width - text.length;
  const left = Math.floor(gap / 2);
  return ' '.repeat(left) + text + ' '.repeat(gap - left);
}

export interface FormatNodeStatusOptions {
  /** reference for "today" in the SINCE column (default now) */
  now?: Date;
  /** format times in UTC instead of local time */
  utc?: boolean;
}

/**
 * One family's section of `calicoctl node status`: the `IPv4 BGP status` heading and the
 * peers table followed by a blank line, or `No IPv4 peers found.`. calicoctl prints a
 * blank line before each section.
 */
export function formatNodeStatus(
  statuses: readonly PeerStatus[],
  family: 4 | 6,
  opts: FormatNodeStatusOptions = {},
): string {
  const now = opts.now ?? new Date();
  const heading = `IPv${family} BGP status\n`;
  const rows = statuses
    .filter((s) => s.address.includes(':') === (family === 6))
    .sort(
      (a, b) =>
        TYPE_ORDER[a.type] - TYPE_ORDER[b.type] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    )
    .map((s) => [s.address, s.type, s.state, formatSince(s.since, now, opts.utc), s.info]);
  if (rows.length === 0) return `${heading}No IPv${family} peers found.\n`;
  const headers = ['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO'];
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+\n`;
  const line = (cells: string[]) => `| ${cells.join(' | ')} |\n`;
  return (
    heading +
    rule +
    line(headers.map((h, i) => centre(h, widths[i]!))) +
    rule +
    rows.map((r) => line(r.map((c, i) => c.padEnd(widths[i]!)))).join('') +
    rule +
    '\n'
  );
}
