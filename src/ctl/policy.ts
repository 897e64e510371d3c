/**
 * `calicoctl policy trace` and `policy matrix`: the stored resources are loaded into the
 * policy engine's snapshot and flows are decided by its explaining evaluator, so the
 * answers are the same ones the dataplane is built from.
 */
import type { CalicoKind, CalicoResource, WorkloadEndpoint } from '../api/index.js';
import { formatIp, type IpAddress, tryParseIp } from '../net/index.js';
import {
  buildSnapshot,
  decide,
  evaluateFlow,
  type Flow,
  type SideTrace,
  type Step,
  type Trace,
} from '../policy/index.js';
import { type Store, withStore } from './context.js';
import { CtlError } from './errors.js';
import { formatTable } from './table.js';

/** Kinds that can change a verdict. */
const POLICY_KINDS: CalicoKind[] = [
  'Tier',
  'GlobalNetworkPolicy',
  'NetworkPolicy',
  'StagedGlobalNetworkPolicy',
  'StagedNetworkPolicy',
  'StagedKubernetesNetworkPolicy',
  'Profile',
  'WorkloadEndpoint',
  'HostEndpoint',
  'GlobalNetworkSet',
  'NetworkSet',
  'FelixConfiguration',
];

async function loadAll({ client }: Store): Promise<CalicoResource[]> {
  const out: CalicoResource[] = [];
  for (const kind of POLICY_KINDS)
    out.push(...((await client.list(kind)).items as CalicoResource[]));
  return out;
}

type Wep = WorkloadEndpoint;
type Hep = { metadata: { name: string }; spec: { node: string; expectedIPs?: string[] } };

/** `<namespace>/<workload>`: spec.workload, or the endpoint's name when that is empty. */
export function workloadName(w: Wep): string {
  return `${w.metadata.namespace ?? 'default'}/${w.spec.workload || w.metadata.name}`;
}

function addressesOf(nets: readonly string[] | undefined): IpAddress[] {
  return (nets ?? []).flatMap((n) => {
    const ip = tryParseIp(n.split('/')[0]!);
    return ip === undefined ? [] : [ip];
  });
}

interface Resolved {
  label: string;
  addresses: IpAddress[];
}

function resolveEndpoint(
  text: string,
  resources: readonly CalicoResource[],
  flag: string,
): Resolved {
  const ip = tryParseIp(text);
  if (ip !== undefined) return { label: formatIp(ip), addresses: [ip] };
  if (text.startsWith('hep/')) {
    const name = text.slice(4);
    const hep = resources.find((r) => r.kind === 'HostEndpoint' && r.metadata.name === name) as
      | Hep
      | undefined;
    if (hep === undefined) throw new CtlError(`${flag} ${text}: no HostEndpoint "${name}"`);
    const addresses = addressesOf(hep.spec.expectedIPs);
    if (addresses.length === 0)
      throw new CtlError(
        `${flag} ${text}: the HostEndpoint has no expectedIPs to trace from or to`,
      );
    return { label: text, addresses };
  }
  const slash = text.indexOf('/');
  if (slash <= 0) {
    throw new CtlError(
      `${flag} ${JSON.stringify(text)}: expected <namespace>/<workload>, hep/<name> or an IP address`,
    );
  }
  const weps = resources.filter(
    (r): r is Wep => r.kind === 'WorkloadEndpoint' && workloadName(r as Wep) === text,
  );
  if (weps.length === 0)
    throw new CtlError(`${flag} ${text}: no WorkloadEndpoint for this workload`);
  const addresses = weps.flatMap((w) => addressesOf(w.spec.ipNetworks));
  if (addresses.length === 0)
    throw new CtlError(`${flag} ${text}: the WorkloadEndpoint has no ipNetworks`);
  return { label: text, addresses };
}

/** The first address family both sides have, preferring IPv4. */
function pickPair(a: Resolved, b: Resolved): [IpAddress, IpAddress] | undefined {
  for (const family of [4, 6]) {
    const x = a.addresses.find((i) => i.family === family);
    const y = b.addresses.find((i) => i.family === family);
    if (x !== undefined && y !== undefined) return [x, y];
  }
  return undefined;
}

function parsePort(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535)
    throw new CtlError(`${flag} ${JSON.stringify(text)}: expected a port from 0 to 65535`);
  return Number(text);
}

function protocolOf(text: string): string | number {
  return /^\d+$/.test(text) ? Number(text) : text;
}

function describeStep(s: Step): string {
  switch (s.kind) {
    case 'rule':
      return `tier ${s.tier}, ${s.staged ? 'staged ' : ''}${s.policyKind} ${s.namespace ? `${s.namespace}/` : ''}${s.policy}, rule ${s.ruleIndex}: ${s.action}`;
    case 'end-of-tier':
      return `end of tier ${s.tier}: no policy allowed it: ${s.action}`;
    case 'tier-pass':
      return `tier ${s.tier}: passed to the next tier`;
    case 'profile-rule':
      return `profile ${s.profile}, rule ${s.ruleIndex}: ${s.action}`;
    case 'missing-profile':
      return `profile ${s.profile} does not exist: Deny`;
    case 'no-profile-accepted':
      return 'no policy or profile allowed it: Deny';
    case 'no-policy':
      return 'no policy applies';
    case 'failsafe':
      return `failsafe ${s.direction} ${s.protocol}:${s.port}: Allow`;
    case 'default-endpoint-to-host-action':
      return `DefaultEndpointToHostAction: ${s.action}`;
    case 'icmpv6-neighbour-discovery':
      return `ICMPv6 neighbour discovery (type ${s.icmpType}): Allow`;
    case 'not-calico-endpoint':
      return `${s.ip} is not a Calico endpoint: no Calico policy on this side`;
    case 'host-to-local-workload':
      return 'from the host to one of its own workloads: no host policy';
    case 'local-host-traffic':
      return 'traffic within the host: no host policy';
    case 'no-host-endpoint':
      return `node ${s.node} has no host endpoint: no host policy`;
    case 'forward-default-allow':
      return 'forwarded traffic without applicable forward policy: Allow';
    default:
      return JSON.stringify(s);
  }
}

function describeSide(title: string, who: string, side: SideTrace): string[] {
  const lines = [`${title} (${who}${side.endpoint ? `, ${side.endpoint}` : ''}): ${side.verdict}`];
  if (side.stages.length === 0) lines.push(`  ${describeStep(side.decidedBy)}`);
  for (const st of side.stages) {
    lines.push(`  ${st.stage}${st.endpoint ? ` (${st.endpoint})` : ''}: ${st.verdict}`);
    for (const step of st.steps) lines.push(`    ${describeStep(step)}`);
  }
  return lines;
}

export function formatTrace(t: Trace, from: string, to: string): string {
  const f = t.flow;
  const port = f.dstPort === undefined ? '' : ` port ${f.dstPort}`;
  const lines = [
    `Flow:    ${f.protocol} ${from} (${f.srcIp}) -> ${to} (${f.dstIp})${port}`,
    `Verdict: ${t.verdict}`,
    '',
    ...describeSide('Egress', `from ${from}`, t.egress),
    '',
    ...describeSide('Ingress', `to ${to}`, t.ingress),
  ];
  if (t.staged !== undefined) lines.push('', `With staged policies enforced: ${t.staged.verdict}`);
  return `${lines.join('\n')}\n`;
}

export interface TraceOptions {
  config?: string;
  from: string;
  to: string;
  protocol: string;
  port?: string;
  srcPort?: string;
  output: 'text' | 'json';
}

export async function trace(opts: TraceOptions): Promise<void> {
  const dstPort = parsePort(opts.port, '--port');
  const srcPort = parsePort(opts.srcPort, '--src-port');
  const resources = await withStore(opts.config, loadAll);
  const src = resolveEndpoint(opts.from, resources, '--from');
  const dst = resolveEndpoint(opts.to, resources, '--to');
  const pair = pickPair(src, dst);
  if (pair === undefined)
    throw new CtlError(`${opts.from} and ${opts.to} have no address family in common`);
  const flow: Flow = {
    srcIp: formatIp(pair[0]),
    dstIp: formatIp(pair[1]),
    protocol: protocolOf(opts.protocol),
    ...(dstPort === undefined ? {} : { dstPort }),
    ...(srcPort === undefined ? {} : { srcPort }),
  };
  const t = evaluateFlow(buildSnapshot(resources), flow);
  process.stdout.write(
    opts.output === 'json'
      ? `${JSON.stringify(t, null, 2)}\n`
      : formatTrace(t, src.label, dst.label),
  );
}

export interface MatrixOptions {
  config?: string;
  protocol: string;
  port?: string;
  namespace?: string;
  allNamespaces?: boolean;
  output: 'ps' | 'json';
}

export interface MatrixResult {
  protocol: string | number;
  port: number | null;
  results: { from: string; to: string; verdict: 'Allow' | 'Deny' }[];
}

export async function matrix(opts: MatrixOptions): Promise<void> {
  const port = parsePort(opts.port, '--port');
  if (opts.namespace !== undefined && opts.allNamespaces)
    throw new CtlError('Give -n NS or -A, not both');
  const resources = await withStore(opts.config, loadAll);
  const snap = buildSnapshot(resources);
  const weps = resources
    .filter((r): r is Wep => r.kind === 'WorkloadEndpoint')
    .filter(
      (w) => opts.namespace === undefined || (w.metadata.namespace ?? 'default') === opts.namespace,
    )
    .map((w) => ({ label: workloadName(w), addresses: addressesOf(w.spec.ipNetworks) }))
    .filter((w) => w.addresses.length > 0)
    .sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  const protocol = protocolOf(opts.protocol);
  const out: MatrixResult = { protocol, port: port ?? null, results: [] };
  const cell = new Map<string, string>();
  for (const s of weps) {
    for (const d of weps) {
      if (s === d) continue;
      const pair = pickPair(s, d);
      if (pair === undefined) continue;
      const verdict = decide(snap, {
        srcIp: formatIp(pair[0]),
        dstIp: formatIp(pair[1]),
        protocol,
        ...(port === undefined ? {} : { dstPort: port }),
      });
      out.results.push({ from: s.label, to: d.label, verdict });
      cell.set(`${s.label}\0${d.label}`, verdict);
    }
  }
  if (opts.output === 'json') {
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const labels = weps.map((w) => w.label);
  const rows = labels.map((s) => [
    s,
    ...labels.map((d) => (s === d ? '-' : (cell.get(`${s}\0${d}`) ?? 'n/a'))),
  ]);
  const what = `${typeof protocol === 'number' ? protocol : protocol.toUpperCase()}${port === undefined ? '' : `/${port}`}`;
  process.stdout.write(`Reachability for new ${what} flows (rows: from, columns: to)\n`);
  process.stdout.write(formatTable(['FROM \\ TO', ...labels], rows));
}
