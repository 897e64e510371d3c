// Interop with a real BIRD 2 in a namespace of its own, over IPv4 and IPv6 eBGP:
// sessions, routes both ways (BIRD's RIB, both kernels), withdrawals, route refresh,
// hold-timer expiry with BIRD frozen, and BIRD restarting gracefully (`bird -R`) while
// our kernel keeps forwarding.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BgpLab, kernelRoutes, waitFor } from './test-lab.js';

const US_AS = 65001;
const BIRD_AS = 65002;

function birdConf(opts: { statics: string[]; statics6: string[] }): string {
  const r4 = opts.statics.map((p) => `route ${p} blackhole;`).join(' ');
  const r6 = opts.statics6.map((p) => `route ${p} blackhole;`).join(' ');
  return `
log stderr all;
router id 10.251.1.2;
protocol device { scan time 1; }
protocol kernel kernel4 { ipv4 { import none; export where source = RTS_BGP; }; merge paths on; }
protocol kernel kernel6 { ipv6 { import none; export where source = RTS_BGP; }; }
protocol static static4 { ipv4; ${r4} }
protocol static static6 { ipv6; ${r6} }
template bgp common {
  local as ${BIRD_AS};
  hold time 3; keepalive time 1;
  connect delay time 1; connect retry time 2; error wait time 1, 4;
  graceful restart on; graceful restart time 60;
}
protocol bgp us4 from common { neighbor 10.251.1.1 as ${US_AS}; ipv4 { import all; export all; }; }
protocol bgp us6 from common { neighbor fd00:251:1::1 as ${US_AS}; ipv6 { import all; export all; }; }
`;
}

test('interop with BIRD 2 over IPv4 and IPv6', { timeout: 240_000 }, async (t) => {
  const lab = new BgpLab('ctb');
  t.after(() => lab.cleanup());
  const us = await lab.ns('us');
  const birdNs = await lab.ns('bird');
  await lab.link(
    us,
    'eth0',
    birdNs,
    'eth0',
    ['10.251.1.1', '10.251.1.2'],
    ['fd00:251:1::1', 'fd00:251:1::2'],
  );

  const statics = ['10.210.0.0/24', '10.210.1.0/24'];
  const statics6 = ['fd00:210::/64'];
  const bird = lab.bird(birdNs, 'bird', birdConf({ statics, statics6 }));
  await bird.start();
  const speaker = await lab.speaker(us, {
    routerId: '10.251.1.1',
    asNumber: US_AS,
    gracefulRestart: { restartTime: 60 },
    peers: [
      { address: '10.251.1.2', asNumber: BIRD_AS, holdTime: 3, connectRetryTime: 1 },
      {
        address: 'fd00:251:1::2',
        asNumber: BIRD_AS,
        holdTime: 3,
        connectRetryTime: 1,
        families: ['ipv6'],
      },
    ],
  });

  await t.test('sessions come up on both families', async () => {
    await waitFor(
      'our sessions',
      async () =>
        (await speaker.established('10.251.1.2')) && (await speaker.established('fd00:251:1::2')),
    );
    await waitFor('BIRD sessions', async () => {
      const out = await bird.birdc('show', 'protocols');
      return /us4\s+BGP.*up.*Established/.test(out) && /us6\s+BGP.*up.*Established/.test(out);
    });
  });

  await t.test('BIRD routes land in our kernel with protocol 81', async () => {
    const routes = await waitFor('kernel routes', async () => {
      const r = await kernelRoutes(us, 81);
      return r.size === 3 ? r : undefined;
    });
    assert.deepEqual(routes.get('10.210.0.0/24'), ['10.251.1.2']);
    assert.deepEqual(routes.get('10.210.1.0/24'), ['10.251.1.2']);
    assert.deepEqual(routes.get('fd00:210::/64'), ['fd00:251:1::2']);
  });

  await t.test('our routes reach BIRD and its kernel', async () => {
    await speaker.request('originate', { prefixes: ['10.220.0.0/26', 'fd00:220::/122'] });
    await waitFor('BIRD RIB', async () => {
      const out = await bird.birdc('show', 'route', 'protocol', 'us4');
      const out6 = await bird.birdc('show', 'route', 'protocol', 'us6');
      return (
        out.includes('10.220.0.0/26') &&
        out.includes(`[AS${US_AS}i]`) &&
        out6.includes('fd00:220::/122')
      );
    });
    const all = await bird.birdc('show', 'route', 'all', '10.220.0.0/26');
    assert.match(all, /BGP.next_hop: 10\.251\.1\.1/);
    assert.match(all, new RegExp(`BGP.as_path: ${US_AS}`));
    await waitFor('BIRD kernel', async () => {
      const r = await kernelRoutes(birdNs, 'bird');
      return (
        r.get('10.220.0.0/26')?.[0] === '10.251.1.1' &&
        r.get('fd00:220::/122')?.[0] === 'fd00:251:1::1'
      );
    });
  });

  await t.test('withdrawals both ways', async () => {
    await speaker.request('withdraw', { prefixes: ['10.220.0.0/26'] });
    await waitFor(
      'gone from BIRD',
      async () => !(await bird.birdc('show', 'route', 'protocol', 'us4')).includes('10.220.0.0/26'),
    );
    await bird.birdc('disable', 'static6');
    await waitFor(
      'v6 route gone from our kernel',
      async () => !(await kernelRoutes(us, 81)).has('fd00:210::/64'),
    );
    await bird.birdc('enable', 'static6');
    await waitFor('v6 route back', async () => (await kernelRoutes(us, 81)).has('fd00:210::/64'));
  });

  await t.test('route refresh both ways', async () => {
    const exportUpdates = async () => {
      const out = await bird.birdc('show', 'protocols', 'all', 'us4');
      // "Export updates:  <received> <rejected> <filtered> <ignored> <accepted>"
      const m = /Export updates:\s+(\d+)/.exec(out);
      return Number(m?.[1] ?? 0);
    };
    const before = await exportUpdates();
    assert.equal(await speaker.request('refresh', { address: '10.251.1.2' }), true);
    await waitFor(
      'BIRD re-sends its routes on our ROUTE-REFRESH',
      async () => (await exportUpdates()) > before,
    );
    // BIRD asks us (birdc reload in sends ROUTE-REFRESH); we answer with our routes again.
    await bird.birdc('reload', 'in', 'us6');
    await waitFor('we answered the refresh', () =>
      speaker.logs().includes('route refresh requested'),
    );
    await waitFor('v6 route still at BIRD', async () =>
      (await bird.birdc('show', 'route', 'protocol', 'us6')).includes('fd00:220::/122'),
    );
    assert.ok(await speaker.established('10.251.1.2'));
  });

  await t.test(
    'hold timer: frozen BIRD is dropped after the hold time and its routes withdrawn',
    async () => {
      process.kill(bird.pid, 'SIGSTOP');
      try {
        await waitFor('hold timer expiry', async () => {
          const st = await speaker.status();
          return st.every(
            (s) => s.bgpState !== 'Established' && s.info.includes('Hold Timer Expired'),
          );
        });
        // A NOTIFICATION was sent, so no graceful-restart retention applies.
        await waitFor('routes withdrawn', async () => (await kernelRoutes(us, 81)).size === 0);
      } finally {
        process.kill(bird.pid, 'SIGCONT');
      }
      await waitFor(
        'sessions back',
        async () =>
          (await speaker.established('10.251.1.2')) && (await speaker.established('fd00:251:1::2')),
        60_000,
      );
      await waitFor('routes back', async () => (await kernelRoutes(us, 81)).size === 3);
    },
  );

  await t.test(
    'graceful restart: our kernel keeps forwarding while BIRD restarts, then refreshes',
    async () => {
      await bird.kill('SIGKILL');
      await waitFor('sessions down', async () =>
        (await speaker.status()).every((s) => s.bgpState !== 'Established'),
      );
      // Still in the kernel: we are helper for BIRD's advertised restart time (60 s).
      const during = await kernelRoutes(us, 81);
      assert.equal(during.size, 3);
      const snapshot = await speaker.routes();
      assert.ok(snapshot.filter((r) => !r.local).every((r) => r.stale));

      // BIRD comes back in recovery mode without 10.210.1.0/24: after its End-of-RIB the
      // stale copy must go while the others stay (refreshed, no longer stale).
      bird.writeConf(birdConf({ statics: ['10.210.0.0/24'], statics6 }));
      await bird.start(['-R']);
      await waitFor(
        'sessions back',
        async () =>
          (await speaker.established('10.251.1.2')) && (await speaker.established('fd00:251:1::2')),
        60_000,
      );
      await waitFor('stale route flushed after End-of-RIB', async () => {
        const r = await kernelRoutes(us, 81);
        return r.size === 2 && r.has('10.210.0.0/24') && r.has('fd00:210::/64') ? r : undefined;
      });
      await waitFor('nothing stale', async () => (await speaker.routes()).every((r) => !r.stale));
      // and BIRD relearned our route from us
      await waitFor('BIRD has our v6 route again', async () =>
        (await bird.birdc('show', 'route', 'protocol', 'us6')).includes('fd00:220::/122'),
      );
    },
  );
});
