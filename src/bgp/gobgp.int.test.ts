// Interop with a real GoBGP 3 (gobgpd) in a namespace of its own, IPv4 and IPv6 eBGP:
// sessions, routes both ways, withdrawals, route refresh, hold-timer expiry.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BgpLab, kernelRoutes, waitFor } from './test-lab.js';

const US_AS = 65001;
const GO_AS = 65003;

const TOML = `
[global.config]
  as = ${GO_AS}
  router-id = "10.252.1.2"
${[
  ['10.252.1.1', 'ipv4-unicast'],
  ['fd00:252:1::1', 'ipv6-unicast'],
]
  .map(
    ([addr, fam]) => `
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${addr}"
    peer-as = ${US_AS}
  [neighbors.timers.config]
    hold-time = 3
    keepalive-interval = 1
    connect-retry = 1
  [neighbors.graceful-restart.config]
    enabled = true
    restart-time = 60
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "${fam}"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
`,
  )
  .join('')}
`;

test('interop with GoBGP over IPv4 and IPv6', { timeout: 240_000 }, async (t) => {
  const lab = new BgpLab('ctb');
  t.after(() => lab.cleanup());
  const us = await lab.ns('us');
  const goNs = await lab.ns('gobgp');
  await lab.link(
    us,
    'eth0',
    goNs,
    'eth0',
    ['10.252.1.1', '10.252.1.2'],
    ['fd00:252:1::1', 'fd00:252:1::2'],
  );
  const gobgp = await lab.gobgp(goNs, TOML);
  const speaker = await lab.speaker(us, {
    routerId: '10.252.1.1',
    asNumber: US_AS,
    // The other tests use the rtnetlink programmer; this one covers the `ip -batch` one.
    kernel: { driver: 'ip' },
    peers: [
      { address: '10.252.1.2', asNumber: GO_AS, holdTime: 3, connectRetryTime: 1 },
      {
        address: 'fd00:252:1::2',
        asNumber: GO_AS,
        holdTime: 3,
        connectRetryTime: 1,
        families: ['ipv6'],
      },
    ],
  });
  const upBoth = async () =>
    (await speaker.established('10.252.1.2')) && (await speaker.established('fd00:252:1::2'));

  await t.test('sessions come up on both families', async () => {
    await waitFor('our sessions', upBoth, 60_000);
    const out = await gobgp.cli('neighbor');
    assert.match(out, /10\.252\.1\.1\s.*Establ/);
    assert.match(out, /fd00:252:1::1\s.*Establ/);
  });

  await t.test('GoBGP routes land in our kernel', async () => {
    await gobgp.cli('global', 'rib', 'add', '10.230.0.0/24', '-a', 'ipv4');
    await gobgp.cli('global', 'rib', 'add', 'fd00:230::/64', '-a', 'ipv6');
    const r = await waitFor('kernel routes', async () => {
      const k = await kernelRoutes(us, 81);
      return k.size === 2 ? k : undefined;
    });
    assert.deepEqual(r.get('10.230.0.0/24'), ['10.252.1.2']);
    assert.deepEqual(r.get('fd00:230::/64'), ['fd00:252:1::2']);
    const snap = await speaker.routes();
    assert.deepEqual(snap.find((x) => x.prefix === '10.230.0.0/24')?.asPath, [GO_AS]);
  });

  await t.test('our routes reach GoBGP with our AS and next hop', async () => {
    await speaker.request('originate', { prefixes: ['10.231.0.0/26', 'fd00:231::/122'] });
    await waitFor('GoBGP RIB', async () => {
      const v4 = await gobgp.cli('-j', 'global', 'rib', '-a', 'ipv4');
      const v6 = await gobgp.cli('-j', 'global', 'rib', '-a', 'ipv6');
      return (
        v4.includes('10.231.0.0/26') &&
        v4.includes('"nexthop":"10.252.1.1"') &&
        v6.includes('fd00:231::/122')
      );
    });
    const text = await gobgp.cli('global', 'rib', '-a', 'ipv4', '10.231.0.0/26');
    assert.match(text, new RegExp(`${US_AS}`));
  });

  await t.test('withdrawals both ways', async () => {
    await gobgp.cli('global', 'rib', 'del', '10.230.0.0/24', '-a', 'ipv4');
    await waitFor(
      'gone from our kernel',
      async () => !(await kernelRoutes(us, 81)).has('10.230.0.0/24'),
    );
    await speaker.request('withdraw', { prefixes: ['fd00:231::/122'] });
    await waitFor(
      'gone from GoBGP',
      async () =>
        !(await gobgp.cli('-j', 'global', 'rib', '-a', 'ipv6')).includes('fd00:231::/122'),
    );
  });

  // GoBGP keeps its Adj-RIB-In, so `softresetin` never sends ROUTE-REFRESH (its counters
  // stay 0); the other direction is covered against BIRD. Here: GoBGP answers ours.
  await t.test('route refresh: GoBGP receives and answers ours', async () => {
    assert.equal(await speaker.request('refresh', { address: 'fd00:252:1::2' }), true);
    await waitFor('GoBGP counted our ROUTE-REFRESH', async () => {
      const out = await gobgp.cli('neighbor', 'fd00:252:1::1');
      return /Route Refresh:\s+\d+\s+[1-9]/.test(out);
    });
    // GoBGP answers with its table; the route is still (or again) present and the session up.
    await waitFor('v6 route present', async () =>
      (await kernelRoutes(us, 81)).has('fd00:230::/64'),
    );
    assert.ok(await upBoth());
  });

  await t.test('hold timer: frozen gobgpd is dropped after the hold time', async () => {
    process.kill(gobgp.pid, 'SIGSTOP');
    try {
      await waitFor('hold expiry', async () =>
        (await speaker.status()).every((s) => s.info.includes('Hold Timer Expired')),
      );
      await waitFor('routes withdrawn', async () => (await kernelRoutes(us, 81)).size === 0);
    } finally {
      process.kill(gobgp.pid, 'SIGCONT');
    }
    await waitFor('sessions back', upBoth, 90_000);
    await waitFor('routes back', async () => (await kernelRoutes(us, 81)).has('fd00:230::/64'));
  });
});
