// `npm run bench -- dataplane [--json] [--workloads N] [--policies N] [--sets N] [--seconds S]
//  [--runs N] [--cycles N] [--rounds N] [--no-packet] [--no-helpers]` (root: builds network
//  namespaces, removed afterwards; --no-helpers starts processes per change instead of
//  keeping a shell and `nft -i` in the namespace)
//
// 1. Full programming: 250 local workloads, 1,000 policies, 2,000 IP sets. Our first
//    flush (render + serialise + one atomic `nft -f -`) against plain `nft -f <file>`
//    loading the very same rendered text, alternating, same namespace, median of runs.
// 2. One workload removed / added: apply + flush until the transaction has committed
//    (the kernel enforces at commit), median over repeated cycles.
// 3. Packet cost between two real workloads: iperf3 TCP throughput and new TCP
//    connections per second with 10,000 policies programmed (spread 40 per endpoint over
//    the 250 endpoints, the two test endpoints included, so their connections walk 40
//    policies each way) against the same endpoints with no policy at all, on a second
//    host namespace programmed at the same time, and on a third with the same 10,000
//    policies none of which applies to the test endpoints (the issue's "does not grow
//    with the number of policies in the cluster"). Samples rotate between the three
//    (--rounds, default 10, --seconds per sample, default 2); each figure is the median
//    of the per-round ratios, which cancels load swings slower than a round.
import { readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DesiredStateUpdate, PolicyProgram } from '../src/calc/index.js';
import {
  ALLOW_ALL_PROFILE,
  policy,
  ports,
  rule,
  TCP,
  tier,
  UDP,
  updatesFor,
  workload,
} from '../src/dataplane/fixtures.js';
import {
  chainNames,
  Dataplane,
  NFT_GLIBC_TUNABLES,
  type RenderedTable,
  serializeFull,
} from '../src/dataplane/index.js';
import { NetnsLab, run } from '../src/testing/netns.js';
import { type Benchmark, type Figure, percentile } from './lib/report.js';

function arg(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

const ifname = (i: number) => `calib${i.toString(16).padStart(10, '0')}`;
const v4 = (i: number) => `10.70.${i >> 8}.${i & 255}`;
const v6 = (i: number) => `fd00:70::${i.toString(16)}`;

/** Policies that look like real ones: selector sets, ports, a CIDR, both directions. */
function makePolicies(n: number, nSets: number): PolicyProgram[] {
  const out: PolicyProgram[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      policy(
        `np/bench/p${i}`,
        [
          rule('allow', {
            id: `p${i}-i0`,
            protocol: TCP,
            src: { ipSetIds: [`s:${i % nSets}`] },
            dst: { ports: ports(8000 + (i % 100)) },
          }),
          rule('deny', { id: `p${i}-i1`, src: { nets: [`10.${100 + (i % 50)}.0.0/16`] } }),
        ],
        [
          rule('allow', {
            id: `p${i}-e0`,
            protocol: UDP,
            dst: { ipSetIds: [`s:${(i + 1) % nSets}`], ports: ports(53) },
          }),
        ],
      ),
    );
  }
  return out;
}

/**
 * The cluster state: `nWl` endpoints on `cali*` interfaces, `nPol` policies spread evenly
 * (each endpoint's last policy allows everything so the test endpoints can talk), and
 * `nSets` selector IP sets of ~10 members each. `bare` endpoints get only the allow-all
 * policy; their share goes to the endpoint two further on, so every policy stays
 * programmed.
 */
export function scenario(
  nWl: number,
  nPol: number,
  nSets: number,
  real: Map<number, string>,
  bare: ReadonlySet<number> = new Set(),
) {
  const sets = [];
  for (let s = 0; s < nSets; s++) {
    const members: string[] = [];
    for (let k = 0; k < 10; k++) members.push(`${v4((s * 7 + k * 13) % nWl)}/32`);
    members.push(`10.${200 + (s % 50)}.${s % 256}.0/24`, `${v6(s % nWl)}/128`);
    sets.push({ id: `s:${s}`, members });
  }
  const policies = makePolicies(nPol, nSets);
  const allow = policy(
    'np/bench/allow-all',
    [rule('allow', { id: 'a-i' })],
    [rule('allow', { id: 'a-e' })],
  );
  if (nPol > 0) policies.push(allow);
  const per = Math.floor(nPol / Math.max(1, nWl));
  const workloads = [];
  for (let i = 0; i < nWl; i++) {
    const share = (k: number) => policies.slice(k * per, k * per + per).map((p) => p.id);
    const ids = bare.has(i) ? [] : share(i);
    if (bare.has(i - 2)) ids.push(...share(i - 2));
    if (nPol > 0) ids.push(allow.id);
    workloads.push(
      workload(`bench/w${i}`, real.get(i) ?? ifname(i), v4(i), v6(i), {
        profileIds: ['kns.default'],
        tiers: ids.length > 0 ? [tier('default', ids, ids)] : [],
      }),
    );
  }
  return updatesFor({
    ipSets: sets,
    policies,
    profiles: [ALLOW_ALL_PROFILE],
    workloads,
    pools: [{ cidr: '10.70.0.0/16', natOutgoing: true }],
  });
}

const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

/**
 * CPU milliseconds of this process, its reaped children (nft, ip, sh per call) and its
 * live children (the Dataplane's long-lived shell and `nft -i`, with what they reaped):
 * on a loaded machine wall time mostly measures the wait for a core, CPU time the work.
 * Live helpers are read from schedstat (ns); reaped children only exist as 10 ms ticks.
 */
function cpuMs(): number {
  const u = process.cpuUsage();
  // /proc/<pid>/stat after the parenthesised command: index 11/12 utime/stime, 13/14
  // cutime/cstime (ticks)
  const stat = (pid: string) =>
    readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const f = stat('self');
  let ticks = Number(f[13]) + Number(f[14]);
  let ns = 0;
  // live descendants, recursively: `nft -i` runs under a shell that removes its directory
  const children = (pid: string): string[] => {
    const out: string[] = [];
    for (const t of readdirSync(`/proc/${pid}/task`))
      try {
        out.push(...readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/));
      } catch {
        // thread or process gone
      }
    return out.filter(Boolean);
  };
  const todo = children('self');
  while (todo.length > 0) {
    const k = todo.pop()!;
    try {
      const g = stat(k);
      ns += Number(readFileSync(`/proc/${k}/schedstat`, 'utf8').split(' ')[0]);
      ticks += Number(g[13]) + Number(g[14]);
      todo.push(...children(k));
    } catch {
      // exited between the listing and the read: its ticks are in its parent's cutime
    }
  }
  return (u.user + u.system) / 1000 + ticks * 10 + ns / 1e6;
}

/**
 * Rules a new connection from `from` to `to` can evaluate in `t`: the source workload's
 * egress chain, the destination's ingress chain and every chain they jump to (an upper
 * bound: a matching rule ends its chain early). Dispatch to those chains is by verdict
 * map, so no other endpoint's or policy's rules are on the path.
 */
function rulesOnPath(t: RenderedTable, from: string, to: string): number {
  const seen = new Set<string>();
  const walk = (name: string): number => {
    if (seen.has(name)) return 0;
    seen.add(name);
    const c = t.chains.get(name);
    if (!c) return 0;
    let n = c.rules.length;
    for (const r of c.rules) {
      const m = /\b(?:jump|goto) (\S+)/.exec(r);
      if (m) n += walk(m[1]!);
    }
    return n;
  };
  return walk(chainNames.fromWorkload(from)) + walk(chainNames.toWorkload(to));
}

const load = () => loadavg()[0]!.toFixed(2);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const r = await fn();
  return [performance.now() - t0, r];
}

async function iperf(lab: NetnsLab, client: string, server: string, dst: string, secs: number) {
  const srv = lab.spawn(server, ['iperf3', '-s', '-1']);
  srv.stdout!.resume();
  srv.stderr!.resume();
  await new Promise((r) => setTimeout(r, 300));
  const out = await lab.exec(client, ['iperf3', '-c', dst, '-t', String(secs), '-J']);
  const j = JSON.parse(out.stdout) as { end: { sum_received: { bits_per_second: number } } };
  await new Promise<void>((r) => (srv.exitCode !== null ? r() : srv.once('close', () => r())));
  return j.end.sum_received.bits_per_second / 1e9;
}

// Opens and closes TCP connections with a fixed concurrency for a fixed time; each
// connection reads the server's greeting, so a completed one crossed policy both ways.
const CONNECT_LOOP = `
const net = require('node:net');
const [dst, port, ms, conc] = process.argv.slice(1);
let done = 0; let failed = 0; const end = Date.now() + Number(ms);
function one() {
  if (Date.now() >= end) return;
  const c = net.connect({ host: dst, port: Number(port) });
  c.on('data', () => {});
  c.on('end', () => { done++; c.destroy(); one(); });
  c.on('error', () => { failed++; c.destroy(); one(); });
}
for (let i = 0; i < Number(conc); i++) one();
setTimeout(() => { console.log(JSON.stringify({ done, failed })); process.exit(0); }, Number(ms) + 200);
`;

async function connRate(lab: NetnsLab, client: string, dst: string, secs: number) {
  const r = await lab.exec(client, [
    process.execPath,
    '-e',
    CONNECT_LOOP,
    dst,
    '8080',
    String(secs * 1000),
    '8',
  ]);
  const { done, failed } = JSON.parse(r.stdout) as { done: number; failed: number };
  if (failed > 0) throw new Error(`${failed} connections failed during the rate test`);
  return done / secs;
}

const bench: Benchmark = async (args) => {
  const nWl = arg(args, 'workloads', 250);
  const nPol = arg(args, 'policies', 1000);
  const nSets = arg(args, 'sets', 2000);
  const nPolBig = arg(args, 'packet-policies', 10000);
  const secs = arg(args, 'seconds', 2);
  const runs = arg(args, 'runs', 3);
  const cycles = arg(args, 'cycles', 20);
  const rounds = arg(args, 'rounds', 10);
  const packet = !args.includes('--no-packet');
  const helpers = !args.includes('--no-helpers');
  const lab = new NetnsLab('ctdb');
  const notes: string[] = [`load average (1 min) at start: ${load()}`];
  try {
    // Two real workloads (indices 0 and 1) plus nWl - 2 veths whose far ends sit in one sink
    // namespace: every endpoint has a real cali* interface, so routes and sysctls apply.
    const topo = await lab.hostWithWorkloads([
      { name: 'w0', ifname: ifname(0), ipv4: v4(0), ipv6: v6(0) },
      { name: 'w1', ifname: ifname(1), ipv4: v4(1), ipv6: v6(1) },
    ]);
    const sink = await lab.addNamespace('sink');
    const lines: string[] = [];
    for (let i = 2; i < nWl; i++)
      lines.push(
        `link add ${ifname(i)} netns ${topo.host} type veth peer name s${i} netns ${sink}`,
      );
    await run(['ip', '-batch', '-'], { input: `${lines.join('\n')}\n` });
    await lab.ipBatch(
      topo.host,
      [...Array(nWl).keys()].slice(2).map((i) => `link set ${ifname(i)} up`),
    );
    const real = new Map<number, string>();
    const [wa, wb] = topo.workloads as [(typeof topo.workloads)[0], (typeof topo.workloads)[0]];

    // ---- 1. full programming vs nft -f of the same text
    const ups = scenario(nWl, nPol, nSets, real);
    const ours: number[] = [];
    const plain: number[] = [];
    const plainTuned: number[] = [];
    const oursCpu: number[] = [];
    const plainCpu: number[] = [];
    const file = join(tmpdir(), `calico-bench-${process.pid}.nft`);
    let text = '';
    let counts = { chains: 0, rules: 0, sets: 0, setElements: 0 };
    let firstFlushAll = 0;
    for (let r = 0; r < runs; r++) {
      // a fresh Dataplane each time: no caches, nothing programmed yet (as after a restart)
      const dp = new Dataplane({
        netns: topo.host,
        manageRoutes: r === 0,
        manageInterfaces: r === 0,
        helpers,
      });
      for (const u of ups) dp.apply(u);
      const c0 = cpuMs();
      const [ms, m] = await timed(() => dp.flush());
      if (r === 0) firstFlushAll = ms;
      else {
        ours.push(ms);
        oursCpu.push(cpuMs() - c0);
      }
      await dp.stop();
      counts = m.counts;
      if (r === 0) {
        text = serializeFull(dp.rendered()!);
        writeFileSync(file, text);
        continue;
      }
      const c1 = cpuMs();
      const [pms] = await timed(() => lab.exec(topo.host, ['nft', '-f', file]));
      plainCpu.push(cpuMs() - c1);
      plain.push(pms);
      const [tms] = await timed(() =>
        lab.exec(topo.host, ['env', `GLIBC_TUNABLES=${NFT_GLIBC_TUNABLES}`, 'nft', '-f', file]),
      );
      plainTuned.push(tms);
    }
    // the first run also applied routes and sysctls once; measure pure nft runs for the ratio
    {
      const dp = new Dataplane({
        netns: topo.host,
        manageRoutes: false,
        manageInterfaces: false,
        helpers,
      });
      for (const u of ups) dp.apply(u);
      const c0 = cpuMs();
      const [ms] = await timed(() => dp.flush());
      oursCpu.push(cpuMs() - c0);
      ours.push(ms);
      await dp.stop();
    }
    unlinkSync(file);
    notes.push(
      `table: ${counts.chains} chains, ${counts.rules} rules, ${counts.sets} sets, ${counts.setElements} set elements, ${(text.length / 1e6).toFixed(2)} MB of nft text`,
      `first flush including ${nWl * 2} routes and interface sysctls: ${firstFlushAll.toFixed(0)} ms`,
      `full programming, median of runs: ours ${median(ours).toFixed(0)} ms wall / ${median(oursCpu).toFixed(0)} ms CPU; nft -f ${median(plain).toFixed(0)} ms wall / ${median(plainCpu).toFixed(0)} ms CPU; nft -f with our glibc settings (${NFT_GLIBC_TUNABLES}) ${median(plainTuned).toFixed(0)} ms wall, ratio ours / that ${(median(ours) / median(plainTuned)).toFixed(2)}`,
    );

    // ---- 2. one workload removed / added until enforced
    const dp = new Dataplane({ netns: topo.host, helpers });
    for (const u of ups) dp.apply(u);
    await dp.flush();
    const victim = ups.find(
      (u): u is Extract<DesiredStateUpdate, { type: 'workloadEndpointUpdate' }> =>
        u.type === 'workloadEndpointUpdate' && u.endpoint.id === `bench/w${nWl - 1}`,
    )!;
    const adds: number[] = [];
    const removes: number[] = [];
    const addNft: number[] = [];
    const addCpu: number[] = [];
    const removeCpu: number[] = [];
    const removeNft: number[] = [];
    for (let i = 0; i < cycles; i++) {
      let c0 = cpuMs();
      const [rm, rmM] = await timed(async () => {
        dp.apply({ type: 'workloadEndpointRemove', id: victim.endpoint.id });
        for (const n of [...victim.endpoint.ipv4Nets, ...victim.endpoint.ipv6Nets])
          dp.apply({ type: 'routeRemove', dst: n });
        return dp.flush();
      });
      removeCpu.push(cpuMs() - c0);
      removes.push(rm);
      removeNft.push(rmM.renderMs + rmM.nftMs);
      c0 = cpuMs();
      const [add, addM] = await timed(async () => {
        dp.apply(victim);
        for (const n of [...victim.endpoint.ipv4Nets, ...victim.endpoint.ipv6Nets])
          dp.apply({
            type: 'routeUpdate',
            route: { dst: n, type: 'local-workload', interfaceName: victim.endpoint.interfaceName },
          });
        return dp.flush();
      });
      addCpu.push(cpuMs() - c0);
      adds.push(add);
      addNft.push(addM.renderMs + addM.nftMs);
      if (i === 0)
        notes.push(
          `first add cycle: ${addM.nft?.kind} of ${addM.nft?.lines} nft lines, render ${addM.renderMs.toFixed(1)} ms, nft ${addM.nftMs.toFixed(1)} ms`,
        );
    }
    notes.push(
      'one workload added/removed "until enforced" = apply() + flush() returned: its nft transaction has committed (the kernel enforces from then on) and its routes and interface sysctls, programmed concurrently, are in place',
      `one workload add/remove, CPU of this process + children (nft, ip, sysctl, helpers) per change, mean: add ${mean(addCpu).toFixed(1)} ms, remove ${mean(removeCpu).toFixed(1)} ms`,
    );
    const [smallNft] = await timed(() =>
      lab.exec(topo.host, ['nft', '-f', '-'], {
        input: 'add element inet calico cali-down-ifs { "calizzz" }\n',
      }),
    );
    await lab.exec(topo.host, ['nft', '-f', '-'], {
      input: 'delete element inet calico cali-down-ifs { "calizzz" }\n',
    });
    notes.push(
      `one \`add element\` (a single ifname) via nft -f against this table: ${smallNft.toFixed(1)} ms; nft 1.0.6 lists the whole ruleset for that form, which our deltas avoid`,
    );
    await dp.stop();

    const figures: Figure[] = [
      {
        name: 'full_program_ms',
        label: 'full programming (render + one nft transaction)',
        value: median(ours),
        unit: 'ms',
        baseline: median(plain),
        baselineLabel: 'nft -f of the same text',
        better: 'lower',
      },
      {
        name: 'full_program_ratio',
        label: 'full programming / plain nft -f',
        value: median(ours) / median(plain),
        unit: '×',
        target: 1.2,
        better: 'lower',
      },
      {
        name: 'workload_add_ms',
        label: 'one workload added until enforced (median)',
        value: median(adds),
        unit: 'ms',
        target: 25,
        better: 'lower',
      },
      {
        name: 'workload_add_table_ms',
        label: 'of which render + nft transaction (median)',
        value: median(addNft),
        unit: 'ms',
        better: 'lower',
      },
      {
        name: 'workload_add_p90_ms',
        label: 'one workload added (p90)',
        value: percentile(
          [...adds].sort((a, b) => a - b),
          90,
        ),
        unit: 'ms',
        better: 'lower',
      },
      {
        name: 'workload_add_cpu_ms',
        label: 'one workload added: CPU incl. nft/ip/helpers (mean)',
        value: mean(addCpu),
        unit: 'ms',
        better: 'lower',
      },
      {
        name: 'workload_remove_ms',
        label: 'one workload removed until enforced (median)',
        value: median(removes),
        unit: 'ms',
        target: 25,
        better: 'lower',
      },
      {
        name: 'workload_remove_table_ms',
        label: 'of which render + nft transaction (median)',
        value: median(removeNft),
        unit: 'ms',
        better: 'lower',
      },
      {
        name: 'workload_remove_cpu_ms',
        label: 'one workload removed: CPU incl. nft/ip/helpers (mean)',
        value: mean(removeCpu),
        unit: 'ms',
        better: 'lower',
      },
    ];
    const title = `dataplane: ${nWl} workloads, ${nPol} policies, ${nSets} IP sets (nftables in a namespace)`;
    if (!packet) return { title, figures, notes };

    // ---- 3. packet cost
    // Three hosts side by side, same workload names and addresses, each in its own
    // namespaces: this one with 10,000 policies (40 of them on each test endpoint, like
    // every endpoint), one with no policy at all, and one with the same 10,000 policies of
    // which none apply to the test endpoints (only allow-all): the question, cost
    // that does not grow with the policies in the cluster. All stay programmed and
    // samples rotate between them, so bursts of load from elsewhere hit all alike.
    const topo2 = await lab.hostWithWorkloads(
      [
        { name: 'n0', ifname: ifname(0), ipv4: v4(0), ipv6: v6(0) },
        { name: 'n1', ifname: ifname(1), ipv4: v4(1), ipv6: v6(1) },
      ],
      { hostSuffix: 'h2' },
    );
    const [na, nb] = topo2.workloads as [(typeof topo2.workloads)[0], (typeof topo2.workloads)[0]];
    const topo3 = await lab.hostWithWorkloads(
      [
        { name: 'c0', ifname: ifname(0), ipv4: v4(0), ipv6: v6(0) },
        { name: 'c1', ifname: ifname(1), ipv4: v4(1), ipv6: v6(1) },
      ],
      { hostSuffix: 'h3' },
    );
    const [ca, cb] = topo3.workloads as [(typeof topo3.workloads)[0], (typeof topo3.workloads)[0]];
    await lab.agent(wb.netns).listen({ tcp: [8080] });
    await lab.agent(nb.netns).listen({ tcp: [8080] });
    await lab.agent(cb.netns).listen({ tcp: [8080] });
    const none = new Dataplane({ netns: topo2.host, helpers });
    for (const u of scenario(nWl, 0, 0, real)) none.apply(u);
    await none.flush();
    const big = new Dataplane({ netns: topo.host, helpers });
    for (const u of scenario(nWl, nPolBig, nSets, real)) big.apply(u);
    const [bigMs, bigM] = await timed(() => big.flush());
    const cluster = new Dataplane({ netns: topo3.host, helpers });
    for (const u of scenario(nWl, nPolBig, nSets, real, new Set([0, 1]))) cluster.apply(u);
    await cluster.flush();
    notes.push(
      `${nPolBig} policies: ${bigM.counts.rules} rules, programmed in ${bigMs.toFixed(0)} ms`,
      `rules a new connection w0 → w1 can evaluate (its SYN; later packets are accepted as established before dispatch): ${rulesOnPath(big.rendered()!, wa.ifname, wb.ifname)} with ${nPolBig} policies, ${rulesOnPath(none.rendered()!, na.ifname, nb.ifname)} with none, ${rulesOnPath(cluster.rendered()!, ca.ifname, cb.ifname)} with ${nPolBig} policies none of which applies to w0 or w1`,
      `load average at packet-cost start: ${load()}`,
    );
    const samples = { none: { gbps: [] as number[], cps: [] as number[] } };
    const heavyS = { gbps: [] as number[], cps: [] as number[] };
    const clusterS = { gbps: [] as number[], cps: [] as number[] };
    const sides = ['none', 'big', 'cluster'] as const;
    for (let r = 0; r < rounds; r++) {
      // rotate which side goes first, too
      for (let k = 0; k < sides.length; k++) {
        const side = sides[(r + k) % sides.length]!;
        const [c, srvNs, dst, into] =
          side === 'none'
            ? [na.netns, nb.netns, nb.ipv4!, samples.none]
            : side === 'big'
              ? [wa.netns, wb.netns, wb.ipv4!, heavyS]
              : [ca.netns, cb.netns, cb.ipv4!, clusterS];
        into.gbps.push(await iperf(lab, c, srvNs, dst, secs));
        into.cps.push(await connRate(lab, c, dst, secs));
      }
    }
    await none.stop();
    await big.stop();
    await cluster.stop();
    const show = (label: string, x: { gbps: number[]; cps: number[] }) =>
      notes.push(
        `${label}: TCP ${x.gbps.map((g) => g.toFixed(2)).join(' / ')} Gbit/s, ${x.cps.map((c) => c.toFixed(0)).join(' / ')} conn/s (in round order)`,
      );
    show('no policy', samples.none);
    show(`${nPolBig} policies, 40 on each test endpoint`, heavyS);
    show(`${nPolBig} policies, none on the test endpoints`, clusterS);
    // Each round's two samples were taken seconds apart: their ratio cancels slower load
    // swings that the medians of each side keep.
    const ratios = (a: number[], b: number[]) => a.map((x, i) => x / b[i]!);
    const tcpRatios = ratios(heavyS.gbps, samples.none.gbps);
    const connRatios = ratios(heavyS.cps, samples.none.cps);
    const tcpRatiosC = ratios(clusterS.gbps, samples.none.gbps);
    const connRatiosC = ratios(clusterS.cps, samples.none.cps);
    notes.push(
      `per-round ratios (${nPolBig} policies none of which on the test endpoints / none): TCP ${tcpRatiosC.map((x) => x.toFixed(2)).join(' / ')}; conn/s ${connRatiosC.map((x) => x.toFixed(2)).join(' / ')}`,
      `per-round ratios (${nPolBig} policies / none), round order: TCP ${tcpRatios.map((x) => x.toFixed(2)).join(' / ')}; conn/s ${connRatios.map((x) => x.toFixed(2)).join(' / ')}`,
      `ratio of the medians of each side (load swings between rounds do not cancel): TCP ${(median(heavyS.gbps) / median(samples.none.gbps)).toFixed(2)}, conn/s ${(median(heavyS.cps) / median(samples.none.cps)).toFixed(2)}`,
      `load average at end: ${load()}`,
    );
    const base = { gbps: median(samples.none.gbps), cps: median(samples.none.cps) };
    const heavy = { gbps: median(heavyS.gbps), cps: median(heavyS.cps) };

    figures.push(
      {
        name: 'tcp_gbps',
        label: `TCP throughput with ${nPolBig} policies (40 on each test endpoint)`,
        value: heavy.gbps,
        unit: 'Gbit/s',
        baseline: base.gbps,
        baselineLabel: 'no policy',
        better: 'higher',
      },
      {
        name: 'tcp_ratio',
        label: 'TCP throughput ratio (median of per-round ratios)',
        value: median(tcpRatios),
        unit: '×',
        target: 0.9,
        better: 'higher',
      },
      {
        name: 'conn_per_s',
        label: `new TCP connections/s with ${nPolBig} policies (40 on each)`,
        value: heavy.cps,
        unit: 'conn/s',
        baseline: base.cps,
        baselineLabel: 'no policy',
        better: 'higher',
      },
      {
        name: 'conn_ratio',
        label: 'new connections/s ratio (median of per-round ratios)',
        value: median(connRatios),
        unit: '×',
        target: 0.9,
        better: 'higher',
      },
      {
        name: 'tcp_ratio_cluster',
        label: 'TCP ratio, the 10,000 policies apply elsewhere only',
        value: median(tcpRatiosC),
        unit: '×',
        target: 0.9,
        better: 'higher',
      },
      {
        name: 'conn_ratio_cluster',
        label: 'new conn/s ratio, the 10,000 policies apply elsewhere only',
        value: median(connRatiosC),
        unit: '×',
        target: 0.9,
        better: 'higher',
      },
    );
    return { title, figures, notes };
  } finally {
    await lab.cleanup();
  }
};

export default bench;
