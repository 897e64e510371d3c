// Real kernel, real nftables, real packets: a host namespace with four workloads and an
// "outside" namespace routed via the host's uplink.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DesiredStateUpdate, WorkloadEndpointState } from '../calc/index.js';
import { type NetnsAgent, NetnsLab, type Probe, type ProbeResult } from '../testing/netns.js';
import {
  ALLOW_ALL_PROFILE,
  hostEndpoint,
  policy,
  ports,
  rule,
  TCP,
  tier,
  UDP,
  updatesFor,
  workload,
} from './fixtures.js';
import { Dataplane } from './index.js';

const WL = {
  a: { name: 'wa', ifname: 'calia000000001', ipv4: '10.65.0.1', ipv6: 'fd00:65::1' },
  b: { name: 'wb', ifname: 'calib000000002', ipv4: '10.65.0.2', ipv6: 'fd00:65::2' },
  c: { name: 'wc', ifname: 'calic000000003', ipv4: '10.65.0.3', ipv6: 'fd00:65::3' },
  d: { name: 'wd', ifname: 'calid000000004', ipv4: '10.65.0.4', ipv6: 'fd00:65::4' },
} as const;

type Key = keyof typeof WL;

function wep(k: Key, more: Partial<WorkloadEndpointState> = {}): WorkloadEndpointState {
  const w = WL[k];
  return workload(`default/${w.name}`, w.ifname, w.ipv4, w.ipv6, {
    profileIds: ['kns.default'],
    ...more,
  });
}

/**
 * The scenario:
 * - b ingress (tier default): log, then allow TCP 8080 from set S(a, c) → others hit end of tier;
 * - c ingress: allow UDP 5353 from anywhere, deny the rest; c egress: allow only to named
 *   port set N(http on b) → end of tier for anything else;
 * - d ingress: tier `first` passes traffic from a, denies TCP 7000; nothing else matches so
 *   non-a traffic meets first's end-of-tier drop … except via profile after pass;
 * - a: no policy, profile allows all.
 */
function scenario(config: Record<string, unknown> = {}): DesiredStateUpdate[] {
  return updatesFor({
    config,
    ipSets: [
      { id: 's:ac', members: ['10.65.0.1/32', 'fd00:65::1/128', '10.65.0.3/32', 'fd00:65::3/128'] },
      { id: 's:a', members: ['10.65.0.1/32', 'fd00:65::1/128'] },
      { id: 'n:http', type: 'ip-port', members: ['10.65.0.2,tcp:8080', 'fd00:65::2,tcp:8080'] },
    ],
    policies: [
      policy('gnp/default.b-web', [
        rule('log', { id: 'log' }),
        rule('allow', {
          id: 'web',
          protocol: TCP,
          src: { ipSetIds: ['s:ac'] },
          dst: { ports: ports(8080) },
        }),
      ]),
      policy(
        'gnp/default.c',
        [rule('allow', { protocol: UDP, dst: { ports: ports(5353) } }), rule('deny')],
        [rule('allow', { protocol: TCP, dst: { namedPortIpSetIds: ['n:http'] } })],
      ),
      policy(
        'gnp/first.d',
        [
          rule('pass', { src: { ipSetIds: ['s:a'] } }),
          rule('deny', { protocol: TCP, dst: { ports: ports(7000) } }),
        ],
        [],
        { tier: 'first' },
      ),
    ],
    profiles: [ALLOW_ALL_PROFILE],
    workloads: [
      wep('a'),
      wep('b', { tiers: [tier('default', ['gnp/default.b-web'])] }),
      wep('c', { tiers: [tier('default', ['gnp/default.c'], ['gnp/default.c'])] }),
      wep('d', { tiers: [tier('first', ['gnp/first.d'])] }),
    ],
    pools: [
      { cidr: '10.65.0.0/16', natOutgoing: true },
      { cidr: 'fd00:65::/64', natOutgoing: false },
    ],
  });
}

// Generous: probes run concurrently on 2 CPUs, and an allowed reply must never be late.
const TIMEOUT = 1500;

test('dataplane enforces policy on real packets', async (t) => {
  const lab = new NetnsLab();
  t.after(() => lab.cleanup());
  const topo = await lab.hostWithWorkloads(Object.values(WL));
  const agents = {} as Record<Key, NetnsAgent>;
  for (const [i, k] of (Object.keys(WL) as Key[]).entries()) {
    agents[k] = lab.agent(topo.workloads[i]!.netns);
    await agents[k].listen({ tcp: [7000, 8080, 9090], udp: [5353] });
  }
  const host = lab.agent(topo.host);
  await host.listen({ tcp: [22, 2222] });
  const outside = lab.agent(topo.outside);
  await outside.listen({ tcp: [80] });

  let dp = new Dataplane({ netns: topo.host });
  t.after(() => dp.stop());
  for (const u of scenario()) dp.apply(u);
  const first = await dp.flush();
  assert.equal(first.nft?.kind, 'full');

  const probe = (from: Key | 'out', p: Probe): Promise<ProbeResult> =>
    (from === 'out' ? outside : agents[from]).probe({ ...p, timeoutMs: TIMEOUT });
  const ip = (k: Key, v: 4 | 6) => (v === 4 ? WL[k].ipv4 : WL[k].ipv6);

  /** Each row: from, probe, expected. Run concurrently; report every mismatch. */
  async function expectAll(rows: [Key | 'out', Probe, ProbeResult][]) {
    const got: ProbeResult[] = [];
    // bounded concurrency keeps the probe agents' event loops responsive
    for (let i = 0; i < rows.length; i += 12)
      got.push(...(await Promise.all(rows.slice(i, i + 12).map(([from, p]) => probe(from, p)))));
    const bad = rows
      .map(([from, p, want], i) => ({ from, p, want, got: got[i] }))
      .filter((r) => r.want !== r.got);
    if (bad.length > 0) {
      // re-probe sequentially so the failure message tells flakes from real verdicts
      for (const b of bad) (b as { again?: string }).again = await probe(b.from, b.p);
      const dump = (await lab.exec(topo.host, ['nft', 'list', 'table', 'inet', 'calico'])).stdout;
      console.error(
        dump
          .split('\n')
          .filter((l) => /packets [1-9]/.test(l))
          .join('\n'),
      );
    }
    assert.deepEqual(bad, [], `mismatched probes:\n${JSON.stringify(bad, null, 1)}`);
  }

  await t.test(
    'allow, end of tier, log, pass, profiles, named ports, UDP, ICMP, v4 and v6',
    async () => {
      const rows: [Key | 'out', Probe, ProbeResult][] = [];
      for (const v of [4, 6] as const) {
        rows.push(
          // b: allow TCP 8080 from {a, c}; log rule first does not stop evaluation
          ['a', { kind: 'tcp', dst: ip('b', v), port: 8080 }, 'open'],
          ['c', { kind: 'tcp', dst: ip('b', v), port: 8080 }, 'open'],
          ['d', { kind: 'tcp', dst: ip('b', v), port: 8080 }, 'timeout'],
          ['a', { kind: 'tcp', dst: ip('b', v), port: 9090 }, 'timeout'],
          ['a', { kind: 'udp', dst: ip('b', v), port: 5353 }, 'timeout'],
          ['a', { kind: 'ping', dst: ip('b', v) }, 'timeout'],
          // c ingress: UDP 5353 from anyone, deny the rest
          ['a', { kind: 'udp', dst: ip('c', v), port: 5353 }, 'open'],
          ['d', { kind: 'udp', dst: ip('c', v), port: 5353 }, 'open'],
          ['a', { kind: 'tcp', dst: ip('c', v), port: 8080 }, 'timeout'],
          ['a', { kind: 'ping', dst: ip('c', v) }, 'timeout'],
          // c egress: only the named port http (TCP 8080 on b)
          ['c', { kind: 'tcp', dst: ip('b', v), port: 9090 }, 'timeout'],
          ['c', { kind: 'tcp', dst: ip('d', v), port: 8080 }, 'timeout'],
          ['c', { kind: 'ping', dst: ip('a', v) }, 'timeout'],
          // d: tier first passes a (→ profile allows), denies TCP 7000, end-of-tier drop otherwise
          ['a', { kind: 'tcp', dst: ip('d', v), port: 7000 }, 'open'],
          ['a', { kind: 'tcp', dst: ip('d', v), port: 8080 }, 'open'],
          ['a', { kind: 'ping', dst: ip('d', v) }, 'open'],
          ['b', { kind: 'tcp', dst: ip('d', v), port: 7000 }, 'timeout'],
          ['b', { kind: 'tcp', dst: ip('d', v), port: 8080 }, 'timeout'],
          // a: profile only
          ['b', { kind: 'tcp', dst: ip('a', v), port: 8080 }, 'open'],
          ['d', { kind: 'udp', dst: ip('a', v), port: 5353 }, 'open'],
          ['b', { kind: 'ping', dst: ip('a', v) }, 'open'],
          // from outside, routed through the host
          ['out', { kind: 'tcp', dst: ip('a', v), port: 8080 }, 'open'],
          ['out', { kind: 'tcp', dst: ip('b', v), port: 8080 }, 'timeout'],
          ['out', { kind: 'ping', dst: ip('d', v) }, 'timeout'],
        );
      }
      await expectAll(rows);
      // per-rule counters show which rule hit: b's Log rule saw the packets it let through
      const listing = (await lab.exec(topo.host, ['nft', 'list', 'table', 'inet', 'calico']))
        .stdout;
      assert.match(
        listing,
        /counter packets [1-9]\d* bytes \d+ log prefix "calico-packet gnp\/default.b-web /,
      );
    },
  );

  await t.test('NAT outgoing masquerades pool traffic leaving the pools', async () => {
    await lab.nft(
      topo.outside,
      `table inet probe { chain in { type filter hook input priority 0; ip saddr ${topo.hostUplinkV4} tcp dport 80 counter; ip saddr 10.65.0.0/16 tcp dport 80 counter; }; }`,
    );
    await expectAll([['a', { kind: 'tcp', dst: topo.outsideV4, port: 80 }, 'open']]);
    const list = (await lab.exec(topo.outside, ['nft', 'list', 'table', 'inet', 'probe'])).stdout;
    const counts = [...list.matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
    assert.ok(counts[0]! > 0, `masqueraded packets seen: ${list}`);
    assert.equal(counts[1], 0, 'no pool source address leaked outside');
  });

  await t.test('workload to own host follows defaultEndpointToHostAction', async () => {
    await expectAll([['a', { kind: 'tcp', dst: topo.hostUplinkV4, port: 2222 }, 'timeout']]);
    dp.apply({ type: 'config', config: { defaultEndpointToHostAction: 'Accept' } });
    await dp.flush();
    await expectAll([
      ['a', { kind: 'tcp', dst: topo.hostUplinkV4, port: 2222 }, 'open'],
      ['a', { kind: 'tcp', dst: topo.hostUplinkV6, port: 2222 }, 'open'],
      // workload egress policy still runs first
      ['c', { kind: 'tcp', dst: topo.hostUplinkV4, port: 2222 }, 'timeout'],
    ]);
    dp.apply({ type: 'config', config: {} });
    await dp.flush();
    await expectAll([['a', { kind: 'tcp', dst: topo.hostUplinkV4, port: 2222 }, 'timeout']]);
  });

  await t.test('a forged source address is dropped', async () => {
    const wa = topo.workloads[0]!.netns;
    await lab.ipBatch(wa, [
      'addr add 10.65.0.99/32 dev eth0',
      'addr add fd00:65::99/128 dev eth0 nodad',
    ]);
    // the host can route replies to the forged address, so only anti-spoofing stops it
    await lab.ipBatch(topo.host, [
      `route add 10.65.0.99/32 dev ${WL.a.ifname}`,
      `route add fd00:65::99/128 dev ${WL.a.ifname}`,
    ]);
    await expectAll([
      ['a', { kind: 'tcp', dst: WL.d.ipv4, port: 7000 }, 'open'],
      ['a', { kind: 'tcp', dst: WL.b.ipv4, port: 8080, src: '10.65.0.99' }, 'timeout'],
      ['a', { kind: 'tcp', dst: WL.b.ipv6, port: 8080, src: 'fd00:65::99' }, 'timeout'],
      ['a', { kind: 'ping', dst: WL.d.ipv4, src: '10.65.0.99' }, 'timeout'],
      ['a', { kind: 'tcp', dst: topo.outsideV4, port: 80, src: '10.65.0.99' }, 'timeout'],
    ]);
    // allowSpoofedSourcePrefixes, honoured with workloadSourceSpoofing: Any
    dp.apply({ type: 'config', config: { workloadSourceSpoofing: 'Any' } });
    dp.apply({
      type: 'workloadEndpointUpdate',
      endpoint: wep('a', { allowSpoofedSourcePrefixes: ['10.65.0.99/32'] }),
    });
    await dp.flush();
    await expectAll([
      // c accepts UDP 5353 from anyone, so only anti-spoofing decides
      ['a', { kind: 'udp', dst: WL.c.ipv4, port: 5353, src: '10.65.0.99' }, 'open'],
      ['a', { kind: 'udp', dst: WL.c.ipv6, port: 5353, src: 'fd00:65::99' }, 'timeout'],
    ]);
    dp.apply({ type: 'config', config: {} });
    dp.apply({ type: 'workloadEndpointUpdate', endpoint: wep('a') });
    await dp.flush();
  });

  await t.test('an unknown cali* interface is dropped both ways', async () => {
    const we = await lab.addWorkload(topo.host, {
      name: 'we',
      ifname: 'calie000000005',
      ipv4: '10.65.0.5',
      ipv6: 'fd00:65::5',
    });
    const e = lab.agent(we.netns);
    await e.listen({ tcp: [8080] });
    const rows = await Promise.all([
      e.probe({ kind: 'tcp', dst: WL.a.ipv4, port: 8080, timeoutMs: TIMEOUT }),
      e.probe({ kind: 'ping', dst: WL.a.ipv6, timeoutMs: TIMEOUT }),
      e.probe({ kind: 'tcp', dst: topo.hostUplinkV4, port: 22, timeoutMs: TIMEOUT }),
      agents.a.probe({ kind: 'tcp', dst: '10.65.0.5', port: 8080, timeoutMs: TIMEOUT }),
      outside.probe({ kind: 'tcp', dst: '10.65.0.5', port: 8080, timeoutMs: TIMEOUT }),
    ]);
    assert.deepEqual(rows, ['timeout', 'timeout', 'timeout', 'timeout', 'timeout']);
    // once known (no policy, allow-all profile) it works: the add is one small delta
    dp.apply({
      type: 'workloadEndpointUpdate',
      endpoint: workload('default/we', 'calie000000005', '10.65.0.5', 'fd00:65::5', {
        profileIds: ['kns.default'],
      }),
    });
    const m = await dp.flush();
    assert.equal(m.nft?.kind, 'delta');
    assert.equal(
      await e.probe({ kind: 'tcp', dst: WL.a.ipv4, port: 8080, timeoutMs: TIMEOUT }),
      'open',
    );
    dp.apply({ type: 'workloadEndpointRemove', id: 'default/we' });
    await dp.flush();
    assert.equal(
      await e.probe({ kind: 'tcp', dst: WL.a.ipv4, port: 8080, timeoutMs: TIMEOUT }),
      'timeout',
    );
  });

  await t.test('admin-down endpoint drops everything', async () => {
    dp.apply({ type: 'workloadEndpointUpdate', endpoint: wep('a', { adminUp: false }) });
    await dp.flush();
    await expectAll([
      ['b', { kind: 'tcp', dst: WL.a.ipv4, port: 8080 }, 'timeout'],
      ['a', { kind: 'ping', dst: WL.d.ipv4 }, 'timeout'],
    ]);
    dp.apply({ type: 'workloadEndpointUpdate', endpoint: wep('a') });
    await dp.flush();
    await expectAll([['b', { kind: 'tcp', dst: WL.a.ipv4, port: 8080 }, 'open']]);
  });

  await t.test('host endpoint: failsafe ports, default deny, forwarded traffic', async () => {
    dp.apply({ type: 'hostEndpointUpdate', endpoint: hostEndpoint('uplink', 'eth0') });
    await dp.flush();
    await expectAll([
      ['out', { kind: 'tcp', dst: topo.hostUplinkV4, port: 22 }, 'open'],
      ['out', { kind: 'tcp', dst: topo.hostUplinkV6, port: 22 }, 'open'],
      ['out', { kind: 'tcp', dst: topo.hostUplinkV4, port: 2222 }, 'timeout'],
      // forwarded traffic without applyOnForward policy is allowed
      ['out', { kind: 'tcp', dst: WL.a.ipv4, port: 8080 }, 'open'],
    ]);
    dp.apply({
      type: 'policyUpdate',
      policy: policy(
        'gnp/default.host',
        [rule('allow', { protocol: TCP, dst: { ports: ports(2222) } })],
        [],
        {},
      ),
    });
    dp.apply({
      type: 'policyUpdate',
      policy: policy(
        'gnp/default.fwd',
        [rule('deny', { protocol: TCP, dst: { ports: ports(8080) } }), rule('allow')],
        [],
        { applyOnForward: true },
      ),
    });
    dp.apply({
      type: 'hostEndpointUpdate',
      endpoint: hostEndpoint('uplink', 'eth0', {
        tiers: [tier('default', ['gnp/default.host'])],
        forwardTiers: [tier('default', ['gnp/default.fwd'])],
      }),
    });
    await dp.flush();
    await expectAll([
      ['out', { kind: 'tcp', dst: topo.hostUplinkV4, port: 2222 }, 'open'],
      ['out', { kind: 'tcp', dst: topo.hostUplinkV4, port: 22 }, 'open'],
      ['out', { kind: 'tcp', dst: WL.a.ipv4, port: 8080 }, 'timeout'],
      ['out', { kind: 'tcp', dst: WL.a.ipv4, port: 9090 }, 'open'],
      ['out', { kind: 'ping', dst: WL.a.ipv6 }, 'open'],
    ]);
    dp.apply({ type: 'hostEndpointRemove', id: 'uplink' });
    dp.apply({ type: 'policyRemove', id: 'gnp/default.host' });
    dp.apply({ type: 'policyRemove', id: 'gnp/default.fwd' });
    await dp.flush();
    await expectAll([['out', { kind: 'tcp', dst: WL.a.ipv4, port: 8080 }, 'open']]);
  });

  await t.test('host endpoint: untracked and preDNAT policy', async () => {
    // Untracked (doNotTrack) policy is stateless: the reply needs its own egress rule.
    dp.apply({
      type: 'policyUpdate',
      policy: policy(
        'gnp/default.untracked',
        [rule('allow', { protocol: TCP, dst: { ports: ports(2222) } })],
        [rule('allow', { protocol: TCP, src: { ports: ports(2222) } })],
        { untracked: true },
      ),
    });
    dp.apply({
      type: 'policyUpdate',
      policy: policy(
        'gnp/default.prednat',
        [rule('deny', { protocol: TCP, dst: { ports: ports(9090) } })],
        [],
        { preDnat: true },
      ),
    });
    dp.apply({
      type: 'hostEndpointUpdate',
      endpoint: hostEndpoint('uplink', 'eth0', {
        untrackedTiers: [
          tier('default', ['gnp/default.untracked'], ['gnp/default.untracked'], 'Pass'),
        ],
        preDnatTiers: [tier('default', ['gnp/default.prednat'], [], 'Pass')],
      }),
    });
    await dp.flush();
    await expectAll([
      // no normal policy: the host is default-deny except failsafe and the untracked allow
      ['out', { kind: 'tcp', dst: topo.hostUplinkV4, port: 2222 }, 'open'],
      ['out', { kind: 'tcp', dst: topo.hostUplinkV6, port: 2222 }, 'open'],
      ['out', { kind: 'tcp', dst: topo.hostUplinkV4, port: 22 }, 'open'],
      // preDNAT deny applies to traffic entering the interface, forwarded included
      ['out', { kind: 'tcp', dst: WL.a.ipv4, port: 9090 }, 'timeout'],
      ['out', { kind: 'tcp', dst: WL.a.ipv4, port: 8080 }, 'open'],
    ]);
    dp.apply({ type: 'hostEndpointRemove', id: 'uplink' });
    dp.apply({ type: 'policyRemove', id: 'gnp/default.untracked' });
    dp.apply({ type: 'policyRemove', id: 'gnp/default.prednat' });
    await dp.flush();
    await expectAll([['out', { kind: 'tcp', dst: WL.a.ipv4, port: 9090 }, 'open']]);
  });

  await t.test('IP set delta takes effect incrementally', async () => {
    dp.apply({
      type: 'ipSetDelta',
      id: 's:ac',
      added: ['10.65.0.4/32'],
      removed: ['10.65.0.1/32'],
    });
    const m = await dp.flush();
    assert.equal(m.nft?.kind, 'delta');
    await expectAll([
      ['d', { kind: 'tcp', dst: WL.b.ipv4, port: 8080 }, 'open'],
      ['a', { kind: 'tcp', dst: WL.b.ipv4, port: 8080 }, 'timeout'],
      ['a', { kind: 'tcp', dst: WL.b.ipv6, port: 8080 }, 'open'],
    ]);
    dp.apply({
      type: 'ipSetDelta',
      id: 's:ac',
      added: ['10.65.0.1/32'],
      removed: ['10.65.0.4/32'],
    });
    await dp.flush();
  });

  await t.test('drift is detected and repaired by read-back', async () => {
    assert.equal(await dp.refresh(), undefined);
    await lab.exec(topo.host, [
      'nft',
      'flush',
      'chain',
      'inet',
      'calico',
      `cali-tw-${WL.b.ifname}`,
    ]);
    await expectAll([['d', { kind: 'tcp', dst: WL.b.ipv4, port: 9090 }, 'open']]);
    const drift = await dp.refresh();
    assert.match(drift ?? '', /cali-tw-calib000000002/);
    await expectAll([['d', { kind: 'tcp', dst: WL.b.ipv4, port: 9090 }, 'timeout']]);
    assert.equal(await dp.refresh(), undefined);
  });

  await t.test(
    'foreign table untouched; established flows survive resync and restart',
    async () => {
      await lab.nft(
        topo.host,
        'table inet other { chain c { type filter hook forward priority 10; policy accept; ip daddr 10.65.0.4 counter; }; }',
      );
      const before = (await lab.exec(topo.host, ['nft', 'list', 'table', 'inet', 'other'])).stdout;
      const ping = lab.startPing(topo.workloads[0]!.netns, WL.d.ipv4, 0.01);
      const ping6 = lab.startPing(topo.workloads[0]!.netns, WL.d.ipv6, 0.01);
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 3; i++) {
        dp.forceFullResync();
        const m = await dp.flush();
        assert.equal(m.nft?.kind, 'full');
      }
      // restart: a new process has no memory; before in-sync it must leave the old table alone
      await dp.stop();
      dp = new Dataplane({ netns: topo.host });
      const ups = scenario();
      for (const u of ups.slice(0, -1)) dp.apply(u);
      const pre = await dp.flush();
      assert.equal(pre.nft, undefined, 'nothing programmed before in-sync');
      await new Promise((r) => setTimeout(r, 200));
      dp.apply(ups[ups.length - 1]!);
      const post = await dp.flush();
      assert.equal(post.nft?.kind, 'full');
      await new Promise((r) => setTimeout(r, 300));
      const counts = await ping.stop();
      const counts6 = await ping6.stop();
      assert.ok(counts.transmitted > 20);
      assert.equal(counts.received, counts.transmitted, 'v4 ping lost packets');
      assert.equal(counts6.received, counts6.transmitted, 'v6 ping lost packets');
      const after = (await lab.exec(topo.host, ['nft', 'list', 'table', 'inet', 'other'])).stdout;
      assert.equal(
        after.replace(/packets \d+ bytes \d+/g, ''),
        before.replace(/packets \d+ bytes \d+/g, ''),
      );
      // the foreign rule still sees traffic
      assert.match(after, /packets [1-9]/);
      await expectAll([
        ['a', { kind: 'tcp', dst: WL.b.ipv4, port: 8080 }, 'open'],
        ['d', { kind: 'tcp', dst: WL.b.ipv4, port: 8080 }, 'timeout'],
      ]);
    },
  );

  await t.test('routes: /32 and /128 per workload with protocol 80', async () => {
    const r4 = JSON.parse(
      (await lab.exec(topo.host, ['ip', '-j', 'route', 'show', 'proto', '80'])).stdout,
    ) as { dst: string; dev: string; scope?: string }[];
    for (const k of Object.keys(WL) as Key[]) {
      const r = r4.find((x) => x.dst === WL[k].ipv4);
      assert.equal(r?.dev, WL[k].ifname);
      assert.equal(r?.scope, 'link');
    }
    const r6 = JSON.parse(
      (await lab.exec(topo.host, ['ip', '-j', '-6', 'route', 'show', 'proto', '80'])).stdout,
    ) as { dst: string; dev: string }[];
    for (const k of Object.keys(WL) as Key[])
      assert.equal(r6.find((x) => x.dst === WL[k].ipv6)?.dev, WL[k].ifname);
    const sysctl = (
      await lab.sh(
        topo.host,
        `cat /proc/sys/net/ipv4/conf/${WL.a.ifname}/proxy_arp /proc/sys/net/ipv4/neigh/${WL.a.ifname}/proxy_delay /proc/sys/net/ipv6/conf/${WL.a.ifname}/accept_ra`,
      )
    ).stdout.split('\n');
    assert.deepEqual(sysctl.slice(0, 3), ['1', '0', '0']);
  });
});
