// Interop with a real FRR 8 bgpd in a namespace of its own, IPv4 and IPv6 (MP-BGP) eBGP:
// sessions, routes both ways (FRR's RIB through vtysh JSON, our RIB and kernel),
// withdrawals both ways, route refresh both ways.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BgpLab, kernelRoutes, waitFor } from './test-lab.js';

const US_AS = 65001;
const FRR_AS = 65004;
const US4 = '10.253.1.1';
const FRR4 = '10.253.1.2';
const US6 = 'fd00:253:1::1';
const FRR6 = 'fd00:253:1::2';

// `no bgp ebgp-requires-policy`: FRR 8 sends and accepts nothing on eBGP without a policy.
// `no bgp network import-check`: without zebra no route makes a `network` valid.
// `no bgp default ipv4-unicast`: each session carries only the family it is activated for.
const CONF = `
frr defaults traditional
hostname frr-lab
log stdout informational
router bgp ${FRR_AS}
 bgp router-id ${FRR4}
 no bgp ebgp-requires-policy
 no bgp network import-check
 no bgp default ipv4-unicast
${[US4, US6]
  .map(
    (a) => ` neighbor ${a} remote-as ${US_AS}
 neighbor ${a} timers 1 3
 neighbor ${a} timers connect 1
 neighbor ${a} advertisement-interval 0`,
  )
  .join('\n')}
 address-family ipv4 unicast
  network 10.240.0.0/24
  network 10.240.1.0/24
  neighbor ${US4} activate
 exit-address-family
 address-family ipv6 unicast
  network fd00:240::/64
  neighbor ${US6} activate
 exit-address-family
`;

interface FrrPath {
  valid?: boolean;
  path: string;
  nexthops: Array<{ ip: string }>;
}
type FrrRib = { routes: Record<string, FrrPath[]> };
type FrrNeighbors = Record<
  string,
  {
    bgpState: string;
    messageStats?: Partial<
      Record<'routeRefreshRecv' | 'routeRefreshSent' | 'updatesRecv' | 'updatesSent', number>
    >;
  }
>;

test('interop with FRR bgpd over IPv4 and IPv6', { timeout: 120_000 }, async (t) => {
  const lab = new BgpLab('ctb');
  t.after(() => lab.cleanup());
  const us = await lab.ns('us');
  const frrNs = await lab.ns('frr');
  await lab.link(us, 'eth0', frrNs, 'eth0', [US4, FRR4], [US6, FRR6]);
  const frr = await lab.frr(frrNs, CONF);
  const speaker = await lab.speaker(us, {
    routerId: US4,
    asNumber: US_AS,
    peers: [
      { address: FRR4, asNumber: FRR_AS, holdTime: 3, connectRetryTime: 1 },
      { address: FRR6, asNumber: FRR_AS, holdTime: 3, connectRetryTime: 1, families: ['ipv6'] },
    ],
  });
  const rib = (afi: 'ipv4' | 'ipv6') => frr.json<FrrRib>(`show bgp ${afi} unicast`);
  const neighbors = () => frr.json<FrrNeighbors>('show bgp neighbors');

  await t.test('sessions come up on both families', async () => {
    await waitFor(
      'our sessions',
      async () => (await speaker.established(FRR4)) && (await speaker.established(FRR6)),
    );
    await waitFor('FRR sessions', async () => {
      const n = await neighbors();
      return n[US4]?.bgpState === 'Established' && n[US6]?.bgpState === 'Established';
    });
  });

  await t.test('FRR routes land in our RIB and kernel', async () => {
    const routes = await waitFor('kernel routes', async () => {
      const r = await kernelRoutes(us, 81);
      return r.size === 3 ? r : undefined;
    });
    assert.deepEqual(routes.get('10.240.0.0/24'), [FRR4]);
    assert.deepEqual(routes.get('10.240.1.0/24'), [FRR4]);
    assert.deepEqual(routes.get('fd00:240::/64'), [FRR6]);
    const snap = await speaker.routes();
    for (const p of ['10.240.0.0/24', 'fd00:240::/64']) {
      assert.deepEqual(snap.find((x) => x.prefix === p)?.asPath, [FRR_AS], p);
    }
  });

  await t.test('our routes reach FRR with our AS and next hop', async () => {
    await speaker.request('originate', { prefixes: ['10.241.0.0/26', 'fd00:241::/122'] });
    const [v4, v6] = await waitFor('FRR RIB', async () => {
      const a = (await rib('ipv4')).routes['10.241.0.0/26']?.[0];
      const b = (await rib('ipv6')).routes['fd00:241::/122']?.[0];
      return a && b ? ([a, b] as const) : undefined;
    });
    assert.equal(v4.valid, true);
    assert.equal(v4.path, String(US_AS));
    assert.equal(v4.nexthops[0]?.ip, US4);
    assert.equal(v6.valid, true);
    assert.equal(v6.path, String(US_AS));
    assert.equal(v6.nexthops[0]?.ip, US6);
  });

  await t.test('withdrawals both ways', async () => {
    await speaker.request('withdraw', { prefixes: ['10.241.0.0/26'] });
    await waitFor('gone from FRR', async () => !(await rib('ipv4')).routes['10.241.0.0/26']);
    assert.ok((await rib('ipv6')).routes['fd00:241::/122']);
    await frr.vtysh(
      'configure terminal',
      `router bgp ${FRR_AS}`,
      'address-family ipv4 unicast',
      'no network 10.240.1.0/24',
    );
    await waitFor(
      'gone from our kernel',
      async () => !(await kernelRoutes(us, 81)).has('10.240.1.0/24'),
    );
    assert.ok(!(await speaker.routes()).some((r) => r.prefix === '10.240.1.0/24'));
    assert.ok((await kernelRoutes(us, 81)).has('10.240.0.0/24'));
  });

  await t.test('route refresh both ways', async () => {
    const stats = async (addr: string) => (await neighbors())[addr]?.messageStats ?? {};
    const v4 = await stats(US4);
    assert.equal(await speaker.request('refresh', { address: FRR4 }), true);
    await waitFor('FRR answered our ROUTE-REFRESH', async () => {
      const now = await stats(US4);
      return now.routeRefreshRecv! > v4.routeRefreshRecv! && now.updatesSent! > v4.updatesSent!;
    });
    // Without soft-reconfiguration inbound, `soft in` makes FRR send ROUTE-REFRESH.
    const v6 = await stats(US6);
    await frr.vtysh(`clear bgp ipv6 unicast ${US6} soft in`);
    await waitFor("we answered FRR's ROUTE-REFRESH", async () => {
      const now = await stats(US6);
      return now.routeRefreshSent! > v6.routeRefreshSent! && now.updatesRecv! > v6.updatesRecv!;
    });
    assert.match(speaker.logs(), /route refresh requested/);
    assert.ok((await rib('ipv6')).routes['fd00:241::/122']);
    assert.ok((await speaker.established(FRR4)) && (await speaker.established(FRR6)));
  });
});
