// Real connection attempts from inside one workload to another: bash's /dev/tcp for a
// TCP connect, a connected /dev/udp socket plus a read with a deadline for the UDP echo,
// ping for ICMP. Each attempt is a short-lived process, so a full matrix runs in
// parallel and costs about one timeout.
import { mapLimit, run } from './exec.js';
import type { LabWorkload } from './state.js';

export type ProbeProtocol = 'tcp' | 'udp' | 'icmp';

export interface ProbeResult {
  from: string;
  to: string;
  connected: boolean;
}

export interface ProbeReport {
  protocol: ProbeProtocol;
  port: number | null;
  results: ProbeResult[];
}

const id = (w: LabWorkload) => `${w.namespace}/${w.name}`;

export function probeArgv(protocol: ProbeProtocol, ip: string, port: number, timeoutS: number) {
  if (protocol === 'icmp') return ['ping', '-c', '1', '-W', String(timeoutS), '-q', ip];
  if (protocol === 'tcp') {
    return ['timeout', String(timeoutS), 'bash', '-c', `exec 3<>/dev/tcp/${ip}/${port}`];
  }
  return [
    'timeout',
    String(timeoutS + 1),
    'bash',
    '-c',
    // bash reads a socket one byte per read(), and a UDP read takes the whole datagram:
    // one byte back is the whole echo
    `exec 3<>/dev/udp/${ip}/${port} && printf p >&3 && read -r -N 1 -t ${timeoutS} c <&3 && [ "$c" = p ]`,
  ];
}

export async function probeOne(
  from: LabWorkload,
  to: LabWorkload,
  protocol: ProbeProtocol,
  port: number,
  timeoutS = 2,
): Promise<boolean> {
  if (to.ip === undefined) return false;
  const r = await run(
    ['ip', 'netns', 'exec', from.ns, ...probeArgv(protocol, to.ip, port, timeoutS)],
    {
      allowFail: true,
      timeoutMs: (timeoutS + 3) * 1000,
    },
  );
  return r.code === 0;
}

/** Every ordered pair of distinct workloads, attempted in parallel. */
export async function probeAll(
  workloads: readonly LabWorkload[],
  protocol: ProbeProtocol,
  port: number,
  opts: { timeoutS?: number; parallel?: number } = {},
): Promise<ProbeReport> {
  const pairs: [LabWorkload, LabWorkload][] = [];
  for (const a of workloads) for (const b of workloads) if (a !== b) pairs.push([a, b]);
  const results = await mapLimit(pairs, opts.parallel ?? 32, async ([a, b]) => ({
    from: id(a),
    to: id(b),
    connected: await probeOne(a, b, protocol, port, opts.timeoutS ?? 2),
  }));
  return { protocol, port: protocol === 'icmp' ? null : port, results };
}

/** Rows are sources, columns destinations; "·" on the diagonal. */
export function formatMatrix(report: ProbeReport, names: readonly string[]): string {
  const ok = new Map(report.results.map((r) => [`${r.from}→${r.to}`, r.connected]));
  const width = Math.max(4, ...names.map((n) => n.length));
  const head = `${'from \\ to'.padEnd(width)}  ${names.map((_, i) => String(i + 1).padStart(3)).join('')}`;
  const rows = names.map((a, i) => {
    const cells = names.map((b) => (a === b ? '  ·' : ok.get(`${a}→${b}`) ? '  ✓' : '  ✗'));
    return `${`${String(i + 1).padStart(2)} ${a}`.padEnd(width + 3)}${cells.join('')}`;
  });
  const total = report.results.length;
  const up = report.results.filter((r) => r.connected).length;
  const what =
    report.protocol === 'icmp'
      ? 'ICMP echo'
      : `${report.protocol.toUpperCase()} port ${report.port}`;
  return [`${what}: ${up}/${total} connected`, head, ...rows].join('\n');
}
