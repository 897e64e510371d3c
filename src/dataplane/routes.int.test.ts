import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NetnsLab } from '../testing/netns.js';
import { RouteTable } from './index.js';

interface JsonRoute {
  dst: string;
  type?: string;
  dev?: string;
  gateway?: string;
  protocol?: string;
  scope?: string;
  nexthops?: { gateway: string; dev: string; weight: number }[];
}

test('route table: device, blackhole, next hop and ECMP routes; only ours reconciled', async (t) => {
  const lab = new NetnsLab();
  t.after(() => lab.cleanup());
  const h = await lab.addNamespace('rt');
  const p1 = await lab.addNamespace('p1');
  const p2 = await lab.addNamespace('p2');
  await lab.veth(h, 'up1', p1, 'eth0');
  await lab.veth(h, 'up2', p2, 'eth0');
  await lab.veth(h, 'caliw1', p1, 'wl');
  await lab.ipBatch(h, [
    'link set up1 up',
    'link set up2 up',
    'link set caliw1 up',
    'addr add 10.200.1.1/24 dev up1',
    'addr add 10.200.2.1/24 dev up2',
    'addr add fd00:200:1::1/64 dev up1 nodad',
    'addr add fd00:200:2::1/64 dev up2 nodad',
    // someone else's routes: must survive everything
    'route add 10.250.0.0/24 via 10.200.1.2 proto 12',
    'route add 10.251.0.0/24 via 10.200.1.2',
  ]);
  const list = async (fam: '-4' | '-6'): Promise<JsonRoute[]> =>
    JSON.parse((await lab.exec(h, ['ip', '-j', fam, 'route', 'show'])).stdout) as JsonRoute[];

  const rt = new RouteTable({ netns: h });
  rt.set({ dst: '10.65.0.1/32', kind: 'device', dev: 'caliw1' });
  rt.set({ dst: 'fd00:65::1/128', kind: 'device', dev: 'caliw1' });
  rt.set({ dst: '10.65.0.0/26', kind: 'blackhole' });
  rt.set({ dst: 'fd00:65::/122', kind: 'blackhole' });
  rt.setNextHops('10.66.0.0/26', [{ via: '10.200.1.2' }]);
  rt.setNextHops('10.67.0.0/26', [{ via: '10.200.1.2' }, { via: '10.200.2.2' }]);
  rt.setNextHops('fd00:67::/122', [{ via: 'fd00:200:1::2' }, { via: 'fd00:200:2::2' }]);
  const r1 = await rt.apply();
  assert.deepEqual(r1.failed, []);
  assert.equal(r1.replaced, 7);

  let v4 = await list('-4');
  let v6 = await list('-6');
  const find = (rs: JsonRoute[], dst: string) => rs.find((r) => r.dst === dst);
  assert.deepEqual(
    { dev: find(v4, '10.65.0.1')?.dev, scope: find(v4, '10.65.0.1')?.scope },
    { dev: 'caliw1', scope: 'link' },
  );
  assert.equal(find(v4, '10.65.0.1')?.protocol, '80');
  assert.equal(find(v6, 'fd00:65::1')?.dev, 'caliw1');
  assert.equal(find(v4, '10.65.0.0/26')?.type, 'blackhole');
  assert.equal(find(v6, 'fd00:65::/122')?.type, 'blackhole');
  assert.equal(find(v4, '10.66.0.0/26')?.gateway, '10.200.1.2');
  assert.deepEqual(
    find(v4, '10.67.0.0/26')
      ?.nexthops?.map((n) => n.gateway)
      .sort(),
    ['10.200.1.2', '10.200.2.2'],
  );
  const ecmp6 = v6.filter((r) => r.dst === 'fd00:67::/122');
  const gws6 = ecmp6.flatMap((r) => r.nexthops?.map((n) => n.gateway) ?? [r.gateway]).sort();
  assert.deepEqual(gws6, ['fd00:200:1::2', 'fd00:200:2::2']);

  // nothing changed → nothing sent
  assert.deepEqual(await rt.apply(), { replaced: 0, deleted: 0, failed: [] });

  // ECMP shrinks to one next hop, then the route goes away
  rt.setNextHops('10.67.0.0/26', [{ via: '10.200.2.2' }]);
  rt.setNextHops('fd00:67::/122', []);
  rt.delete('10.66.0.0/26');
  const r2 = await rt.apply();
  assert.deepEqual([r2.replaced, r2.deleted], [1, 2]);
  v4 = await list('-4');
  v6 = await list('-6');
  assert.equal(find(v4, '10.67.0.0/26')?.gateway, '10.200.2.2');
  assert.equal(find(v4, '10.66.0.0/26'), undefined);
  assert.equal(find(v6, 'fd00:67::/122'), undefined);

  // a route for an interface that does not exist yet fails, and is retried later
  rt.set({ dst: '10.65.0.2/32', kind: 'device', dev: 'caliw2' });
  const r3 = await rt.apply();
  assert.deepEqual(r3.failed, ['10.65.0.2/32']);
  await lab.veth(h, 'caliw2', p2, 'wl');
  await lab.exec(h, ['ip', 'link', 'set', 'caliw2', 'up']);
  const r4 = await rt.apply();
  assert.deepEqual(r4.failed, []);
  assert.equal(find(await list('-4'), '10.65.0.2')?.dev, 'caliw2');

  // drift: a stray proto-80 route, a deleted one, a changed one
  await lab.ipBatch(h, [
    'route add 10.99.9.0/24 via 10.200.1.2 proto 80',
    'route del 10.65.0.0/26',
    'route replace 10.67.0.0/26 via 10.200.1.2 proto 80',
  ]);
  // before in-sync a restarted agent must not delete strays
  const fresh = new RouteTable({ netns: h });
  for (const r of rt.routes()) fresh.set(r);
  await fresh.resync(false);
  assert.ok(find(await list('-4'), '10.99.9.0/24'));
  const r5 = await fresh.resync(true);
  assert.equal(r5.deleted, 1);
  v4 = await list('-4');
  assert.equal(find(v4, '10.99.9.0/24'), undefined);
  assert.equal(find(v4, '10.65.0.0/26')?.type, 'blackhole');
  assert.equal(find(v4, '10.67.0.0/26')?.gateway, '10.200.2.2');
  // foreign routes untouched
  assert.equal(find(v4, '10.250.0.0/24')?.protocol, 'bird');
  assert.ok(find(v4, '10.251.0.0/24'));
});
