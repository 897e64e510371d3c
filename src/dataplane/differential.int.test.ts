// Differential test: the Policy engine (src/policy) is the oracle. fast-check generates
// labelled workloads (v4+v6), tiers, policies and profiles as v3 resources; they go
// through the real calculation graph (src/calc CalcGraph) for the host, whose
// DesiredStateUpdates the dataplane programs into a real host namespace; real TCP, UDP
// and ICMP probes between four workload namespaces must match the engine's verdict for
// every flow, v4 and v6.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CalcGraph, type DesiredStateUpdate } from '../calc/index.js';
import { buildSnapshot, evaluateFlow, type ResourceLike } from '../policy/index.js';
import { type NetnsAgent, NetnsLab, type Probe, type ProbeResult } from '../testing/netns.js';
import { Dataplane } from './index.js';

/** What the calculation graph for `node` sends the dataplane after a full sync. */
function desiredFor(resources: readonly unknown[], node: string): DesiredStateUpdate[] {
  const g = new CalcGraph({ hostname: node });
  for (const r of resources) g.onUpdate({ type: 'set', resource: r as ResourceLike });
  g.onInSync();
  return g.flush();
}

// ------------------------------------------------------------ generators

const WLS = [
  { name: 'w0', ifname: 'caliw0000000000', ipv4: '10.66.0.10', ipv6: 'fd00:66::10' },
  { name: 'w1', ifname: 'caliw0000000001', ipv4: '10.66.0.11', ipv6: 'fd00:66::11' },
  { name: 'w2', ifname: 'caliw0000000002', ipv4: '10.66.0.12', ipv6: 'fd00:66::12' },
  { name: 'w3', ifname: 'caliw0000000003', ipv4: '10.66.0.13', ipv6: 'fd00:66::13' },
];

const SELECTORS = ["app == 'a'", "app == 'b'", "role == 'x'", 'has(role)', '!has(role)', 'all()'];
const NETS4 = ['10.66.0.10/32', '10.66.0.0/30', '10.66.0.8/29', '192.168.0.0/16'];
const NETS6 = ['fd00:66::11/128', 'fd00:66::/64', 'fd00:99::/64'];

const entity = (withPorts: boolean, family: 4 | 6 | undefined) =>
  fc.record(
    {
      selector: fc.constantFrom(...SELECTORS),
      notSelector: fc.constantFrom(...SELECTORS),
      nets: fc.subarray(family === 6 ? NETS6 : NETS4, { minLength: 1, maxLength: 2 }),
      notNets: fc.subarray(family === 6 ? NETS6 : NETS4, { minLength: 1, maxLength: 2 }),
      ports: withPorts
        ? fc.subarray([8080, 9090, 'http'] as (number | string)[], { minLength: 1 })
        : fc.constant(undefined),
    },
    { requiredKeys: [] },
  );

const ruleArb = fc
  .record({
    action: fc.constantFrom('Allow', 'Deny', 'Pass', 'Log'),
    protocol: fc.constantFrom(undefined, 'TCP', 'UDP', 'ICMP'),
    family: fc.constantFrom(undefined, 4, 6),
    icmpType: fc.constantFrom(undefined, 8, 0),
  })
  .chain((r) => {
    const portsOk = r.protocol === 'TCP' || r.protocol === 'UDP';
    return fc
      .record({
        source: entity(false, r.family as 4 | 6 | undefined),
        destination: entity(portsOk, r.family as 4 | 6 | undefined),
      })
      .map(({ source, destination }) => {
        const rule: Record<string, unknown> = { action: r.action };
        if (r.protocol) rule.protocol = r.protocol;
        // ICMP type numbers are family-specific; pin the family when matching a type
        if (r.protocol === 'ICMP' && r.icmpType !== undefined) {
          rule.icmp = { type: r.icmpType };
          rule.ipVersion = 4;
        } else if (r.family !== undefined && (source.nets || destination.nets || source.notNets))
          rule.ipVersion = r.family;
        // the API forbids mixing families across a rule's CIDRs
        if (r.family === undefined) {
          delete source.nets;
          delete source.notNets;
          delete destination.nets;
          delete destination.notNets;
        }
        rule.source = source;
        rule.destination = destination;
        return rule;
      });
  });

const policyArb = fc.record({
  tier: fc.constantFrom('t1', 'default'),
  order: fc.constantFrom(undefined, 1, 2, 3),
  selector: fc.constantFrom(...SELECTORS),
  types: fc.constantFrom(['Ingress'], ['Egress'], ['Ingress', 'Egress']),
  ingress: fc.array(ruleArb, { maxLength: 3 }),
  egress: fc.array(ruleArb, { maxLength: 3 }),
});

const scenarioArb = fc.record({
  t1Default: fc.constantFrom('Deny', 'Pass'),
  labels: fc.tuple(
    ...WLS.map(() =>
      fc.record(
        { app: fc.constantFrom('a', 'b'), role: fc.constantFrom('x', 'y') },
        { requiredKeys: ['app'] },
      ),
    ),
  ),
  profiles: fc.tuple(
    ...WLS.map(() =>
      fc.constantFrom(['allow-all'], [], ['deny-all'], ['missing'], ['log-only', 'allow-all']),
    ),
  ),
  policies: fc.array(policyArb, { maxLength: 4 }),
});

type Scenario = {
  t1Default: string;
  labels: Record<string, string>[];
  profiles: string[][];
  policies: {
    tier: string;
    order: number | undefined;
    selector: string;
    types: string[];
    ingress: Record<string, unknown>[];
    egress: Record<string, unknown>[];
  }[];
};

function resources(s: Scenario): unknown[] {
  const out: unknown[] = [
    {
      apiVersion: 'projectcalico.org/v3',
      kind: 'Tier',
      metadata: { name: 't1' },
      spec: { order: 10, defaultAction: s.t1Default },
    },
    {
      apiVersion: 'projectcalico.org/v3',
      kind: 'Profile',
      metadata: { name: 'allow-all' },
      spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] },
    },
    {
      apiVersion: 'projectcalico.org/v3',
      kind: 'Profile',
      metadata: { name: 'deny-all' },
      spec: { ingress: [{ action: 'Deny' }], egress: [{ action: 'Deny' }] },
    },
    {
      apiVersion: 'projectcalico.org/v3',
      kind: 'Profile',
      metadata: { name: 'log-only' },
      spec: { ingress: [{ action: 'Log' }], egress: [{ action: 'Log' }] },
    },
  ];
  WLS.forEach((w, i) => {
    out.push({
      apiVersion: 'projectcalico.org/v3',
      kind: 'WorkloadEndpoint',
      metadata: { name: w.name, namespace: 'default', labels: s.labels[i] },
      spec: {
        node: 'node1',
        orchestrator: 'k8s',
        pod: w.name,
        endpoint: 'eth0',
        interfaceName: w.ifname,
        ipNetworks: [`${w.ipv4}/32`, `${w.ipv6}/128`],
        profiles: s.profiles[i],
        ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
      },
    });
  });
  s.policies.forEach((p, i) => {
    const name = p.tier === 'default' ? `default.p${i}` : `t1.p${i}`;
    const spec: Record<string, unknown> = {
      tier: p.tier,
      selector: p.selector,
      types: p.types,
      ingress: p.ingress,
      egress: p.egress,
    };
    if (p.order !== undefined) spec.order = p.order;
    out.push({
      apiVersion: 'projectcalico.org/v3',
      kind: 'GlobalNetworkPolicy',
      metadata: { name },
      spec,
    });
  });
  return out;
}

// ------------------------------------------------------------ the test

const PROBES: { kind: 'tcp' | 'udp' | 'ping'; port?: number }[] = [
  { kind: 'tcp', port: 8080 },
  { kind: 'tcp', port: 9090 },
  { kind: 'udp', port: 5353 },
  { kind: 'ping' },
];

test('dataplane verdicts equal the Policy engine on real packets (fast-check)', async (t) => {
  const lab = new NetnsLab();
  t.after(() => lab.cleanup());
  const topo = await lab.hostWithWorkloads(WLS);
  const agents: NetnsAgent[] = [];
  for (const w of topo.workloads) {
    const a = lab.agent(w.netns);
    await a.listen({ tcp: [8080, 9090], udp: [5353] });
    agents.push(a);
  }
  let probesSent = 0;
  let cases = 0;

  await fc.assert(
    fc.asyncProperty(scenarioArb, async (scenario) => {
      cases++;
      const res = resources(scenario as unknown as Scenario);
      const snap = buildSnapshot(res);
      const dp = new Dataplane({ netns: topo.host, manageInterfaces: false });
      for (const u of desiredFor(res, 'node1')) dp.apply(u);
      await dp.flush();
      await dp.stop();
      // a verdict is about a new flow: forget the previous case's connections
      await lab.exec(topo.host, ['conntrack', '-F'], { allowFail: true });
      const rows: { from: number; to: number; probe: Probe; engine: string }[] = [];
      for (let from = 0; from < WLS.length; from++)
        for (let to = 0; to < WLS.length; to++) {
          if (from === to) continue;
          for (const fam of [4, 6] as const)
            for (const p of PROBES) {
              const dst = fam === 4 ? WLS[to]!.ipv4 : WLS[to]!.ipv6;
              const src = fam === 4 ? WLS[from]!.ipv4 : WLS[from]!.ipv6;
              const probe: Probe =
                p.kind === 'ping'
                  ? { kind: 'ping', dst, timeoutMs: 2000 }
                  : { kind: p.kind, dst, port: p.port!, timeoutMs: 2000 };
              const flow =
                p.kind === 'ping'
                  ? {
                      srcIp: src,
                      dstIp: dst,
                      protocol: fam === 4 ? 'ICMP' : 'ICMPv6',
                      icmpType: fam === 4 ? 8 : 128,
                      icmpCode: 0,
                    }
                  : {
                      srcIp: src,
                      dstIp: dst,
                      protocol: p.kind.toUpperCase(),
                      srcPort: 40000,
                      dstPort: p.port!,
                    };
              rows.push({ from, to, probe, engine: evaluateFlow(snap, flow).verdict });
            }
        }
      const got: ProbeResult[] = [];
      for (let i = 0; i < rows.length; i += 32)
        got.push(
          ...(await Promise.all(rows.slice(i, i + 32).map((r) => agents[r.from]!.probe(r.probe)))),
        );
      probesSent += rows.length;
      const bad = rows
        .map((r, i) => ({
          from: WLS[r.from]!.name,
          to: WLS[r.to]!.name,
          probe: r.probe,
          engine: r.engine,
          got: got[i],
        }))
        .filter((r) => (r.engine === 'Allow') !== (r.got === 'open'));
      // A probe the engine allows can time out on a loaded machine (CI runs three test
      // files at once): ask each disagreement again with more patience, and count a timed
      // out Allow as a disagreement only if it times out again. A probe that got through
      // where the engine denies, or was refused, is never load.
      for (let i = 0; i < bad.length; i += 32)
        await Promise.all(
          bad.slice(i, i + 32).map(async (b) => {
            const a = agents[WLS.findIndex((w) => w.name === b.from)]!;
            (b as { again?: ProbeResult }).again = await a.probe({ ...b.probe, timeoutMs: 6000 });
          }),
        );
      const real = bad.filter(
        (b) =>
          !(
            b.engine === 'Allow' &&
            b.got === 'timeout' &&
            (b as { again?: ProbeResult }).again === 'open'
          ),
      );
      if (real.length < bad.length)
        t.diagnostic(
          `${bad.length - real.length} allowed probe(s) timed out once, then got through`,
        );
      assert.deepEqual(
        real,
        [],
        `dataplane disagrees with the policy engine:\n${JSON.stringify(bad, null, 1)}\n` +
          `resources:\n${JSON.stringify(res, null, 1)}`,
      );
    }),
    // Shrinking re-runs real probes; bound it so a failure is reported (smallest case so
    // far) well inside the runner's timeout.
    {
      numRuns: Number(process.env.DIFF_RUNS ?? 6),
      interruptAfterTimeLimit: 420_000,
      markInterruptAsFailure: false,
    },
  );
  // the issue asks for at least 500 real probes per run
  assert.ok(probesSent >= 500, `only ${probesSent} probes in ${cases} cases`);
});
