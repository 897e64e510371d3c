import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listNamespaces, NetnsLab, run, sweepStaleNamespaces } from './netns.js';

test('host with workloads: v4/v6 TCP, UDP and ping between workloads and to outside', async (t) => {
  const lab = new NetnsLab();
  t.after(() => lab.cleanup());
  const topo = await lab.hostWithWorkloads([
    { name: 'wa', ifname: 'calia0000000001', ipv4: '10.65.0.1', ipv6: 'fd00:65::1' },
    { name: 'wb', ifname: 'calib0000000002', ipv4: '10.65.0.2', ipv6: 'fd00:65::2' },
  ]);
  const [wa, wb] = topo.workloads;
  assert.ok(wa && wb);
  const a = lab.agent(wa.netns);
  const b = lab.agent(wb.netns);
  const out = lab.agent(topo.outside);
  await b.listen({ tcp: [8080], udp: [5353] });
  await out.listen({ tcp: [80] });

  assert.equal(await a.probe({ kind: 'tcp', dst: '10.65.0.2', port: 8080 }), 'open');
  assert.equal(await a.probe({ kind: 'tcp', dst: 'fd00:65::2', port: 8080 }), 'open');
  assert.equal(await a.probe({ kind: 'udp', dst: '10.65.0.2', port: 5353 }), 'open');
  assert.equal(await a.probe({ kind: 'udp', dst: 'fd00:65::2', port: 5353 }), 'open');
  assert.equal(await a.probe({ kind: 'ping', dst: '10.65.0.2' }), 'open');
  assert.equal(await a.probe({ kind: 'ping', dst: 'fd00:65::2' }), 'open');
  assert.equal(await a.probe({ kind: 'tcp', dst: '10.65.0.2', port: 8081 }), 'refused');
  assert.equal(await a.probe({ kind: 'tcp', dst: topo.outsideV4, port: 80 }), 'open');
  assert.equal(await a.probe({ kind: 'tcp', dst: topo.outsideV6, port: 80 }), 'open');
  assert.equal(await out.probe({ kind: 'tcp', dst: '10.65.0.2', port: 8080 }), 'open');

  // A silently dropped packet shows up as a timeout, not an error.
  await lab.nft(
    wb.netns,
    'table inet t { chain i { type filter hook input priority 0; tcp dport 8080 drop; }; }',
  );
  assert.equal(
    await a.probe({ kind: 'tcp', dst: '10.65.0.2', port: 8080, timeoutMs: 300 }),
    'timeout',
  );

  const ping = lab.startPing(wa.netns, '10.65.0.2', 0.01);
  await new Promise((r) => setTimeout(r, 300));
  const counts = await ping.stop();
  assert.ok(counts.transmitted > 0);
  assert.equal(counts.received, counts.transmitted);
});

test('cleanup removes exactly the lab namespaces; sweeper spares live runs', async () => {
  const lab = new NetnsLab();
  const ns = await lab.addNamespace('solo');
  assert.ok(listNamespaces().includes(ns));
  // our own pid is alive, so the sweeper must not take our namespace
  sweepStaleNamespaces('ctd');
  assert.ok(listNamespaces().includes(ns));
  await lab.cleanup();
  assert.ok(!listNamespaces().includes(ns));
});

test('sweeper removes namespaces of a dead pid', async () => {
  const lab = new NetnsLab('ctdsw');
  try {
    // 2^22 + 1 exceeds the largest possible pid_max, so no live process can own it
    const stale = `ctdsw${4194305}xdead00-x`;
    await run(['ip', 'netns', 'add', stale]);
    const removed = sweepStaleNamespaces('ctdsw');
    assert.deepEqual(removed, [stale]);
    assert.ok(!listNamespaces().includes(stale));
  } finally {
    await lab.cleanup();
  }
});
