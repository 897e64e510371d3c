// Speakers of our own talking over loopback (127.0.0.x, no root needed): FSM, collision
// handling, export rules, route reflection, multipath and graceful restart. Interop with
// BIRD and GoBGP lives in the *.int.test.ts files.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BgpSpeaker } from './speaker.js';
import type { PeerConfig, RouteProgrammer, SpeakerConfig } from './types.js';

class MemProgrammer implements RouteProgrammer {
  readonly routes = new Map<string, string[]>();
  resynced = 0;
  replaceRoute(prefix: string, nextHops: string[]): void {
    this.routes.set(prefix, [...nextHops]);
  }
  deleteRoute(prefix: string): void {
    this.routes.delete(prefix);
  }
  resyncDone(): void {
    this.resynced++;
  }
}

interface Node {
  id: string;
  as: number;
  sp: BgpSpeaker;
  prog: MemProgrammer;
  port: number;
}

const nodes: Node[] = [];

async function node(
  id: string,
  as = 65000,
  extra: Partial<SpeakerConfig> = {},
  prog = new MemProgrammer(),
): Promise<Node> {
  const sp = new BgpSpeaker({
    routerId: id,
    asNumber: as,
    listenAddress: id,
    listenPort: 0,
    routeProgrammer: prog,
    ...extra,
  });
  await sp.start();
  const n = { id, as, sp, prog, port: sp.listenPort! };
  nodes.push(n);
  return n;
}

function peerCfg(from: Node, to: Node, extra: Partial<PeerConfig> = {}): PeerConfig {
  return {
    address: to.id,
    asNumber: to.as,
    port: to.port,
    localAddress: from.id,
    holdTime: 9,
    connectRetryTime: 1,
    ...extra,
  };
}

function link(
  a: Node,
  b: Node,
  aExtra: Partial<PeerConfig> = {},
  bExtra: Partial<PeerConfig> = {},
): void {
  a.sp.addPeer(peerCfg(a, b, aExtra));
  b.sp.addPeer(peerCfg(b, a, bExtra));
}

async function waitFor(what: string, fn: () => boolean, timeoutMs = 20000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function up(n: Node, peer: Node): boolean {
  return n.sp.status().some((s) => s.address === peer.id && s.bgpState === 'Established');
}

async function stopAll(): Promise<void> {
  for (const n of nodes.splice(0)) await n.sp.stop();
}

test('iBGP: session, originate, withdraw, status', async (t) => {
  t.after(stopAll);
  const a = await node('127.0.1.1');
  const b = await node('127.0.1.2');
  link(a, b);
  await waitFor('session', () => up(a, b) && up(b, a));
  a.sp.originate('10.10.0.0/26');
  a.sp.originate('fd00:10::/122');
  await waitFor('route at b', () => b.prog.routes.has('10.10.0.0/26'));
  assert.deepEqual(b.prog.routes.get('10.10.0.0/26'), ['127.0.1.1']);
  // the IPv6 family was not negotiated on this IPv4-only peering
  assert.equal(b.prog.routes.has('fd00:10::/122'), false);
  const st = b.sp.status()[0]!;
  assert.equal(st.state, 'up');
  assert.equal(st.info, 'Established');
  assert.equal(st.name, 'Global_127_0_1_1');
  a.sp.withdraw('10.10.0.0/26');
  await waitFor('withdrawn at b', () => !b.prog.routes.has('10.10.0.0/26'));
  assert.equal(a.prog.routes.size, 0, 'local routes are not programmed');
});

test('collision: both sides connect, exactly one session survives and works', async (t) => {
  t.after(stopAll);
  const a = await node('127.0.2.1');
  const b = await node('127.0.2.2');
  link(a, b);
  await waitFor('session', () => up(a, b) && up(b, a));
  b.sp.originate('10.20.0.0/24');
  await waitFor('route', () => a.prog.routes.has('10.20.0.0/24'));
});

test('passive peer waits; the active side connects', async (t) => {
  t.after(stopAll);
  const a = await node('127.0.3.1');
  const b = await node('127.0.3.2');
  link(a, b, { passive: true }, {});
  await waitFor('session', () => up(a, b));
});

test('wrong peer AS is refused with an OPEN error and the session stays down', async (t) => {
  t.after(stopAll);
  const a = await node('127.0.4.1');
  const b = await node('127.0.4.2', 65001);
  a.sp.addPeer({ ...peerCfg(a, b), asNumber: 65099 });
  b.sp.addPeer({ ...peerCfg(b, a), passive: true });
  await waitFor('an error recorded', () => a.sp.status()[0]!.info.includes('OPEN Message Error'));
  assert.notEqual(a.sp.status()[0]!.bgpState, 'Established');
});

test('eBGP: AS path prepended, next hop self, LOCAL_PREF not sent, loop rejected', async (t) => {
  t.after(stopAll);
  const a = await node('127.0.5.1', 65001);
  const b = await node('127.0.5.2', 65002);
  const c = await node('127.0.5.3', 65003);
  link(a, b, {}, {});
  link(b, c, { asPathPrepend: 1 }, {});
  link(c, a, {}, {});
  await waitFor('sessions', () => up(a, b) && up(b, c) && up(c, a));
  a.sp.originate('10.50.0.0/24');
  await waitFor('at c', () => c.sp.routes().some((r) => r.prefix === '10.50.0.0/24'));
  // c has two paths: direct from a (65001) and via b (65002 65002 65001); direct wins
  await waitFor(
    'two paths at c',
    () => c.sp.routes().find((r) => r.prefix === '10.50.0.0/24')?.paths === 2,
  );
  const r = c.sp.routes().find((x) => x.prefix === '10.50.0.0/24')!;
  assert.deepEqual(r.asPath, [65001]);
  assert.deepEqual(r.nextHops, ['127.0.5.1']);
  // b's path to c carries the prepend; a rejects the looped copy from c
  await waitFor('a has no path for its own prefix from peers', () => {
    const mine = a.sp.routes().find((x) => x.prefix === '10.50.0.0/24');
    return mine?.local === true && mine.paths === 1;
  });
});

test('per-peer local AS (BGPPeer localASNumber): OPEN and AS path use it', async (t) => {
  t.after(stopAll);
  const a = await node('127.0.5.11', 64512);
  const b = await node('127.0.5.12', 65010);
  // b expects AS 65100 from a, not a's own 64512.
  link(a, b, { localAsNumber: 65100 }, { asNumber: 65100 });
  await waitFor('session', () => up(a, b));
  a.sp.originate('10.51.0.0/24');
  await waitFor('at b', () => b.sp.routes().some((r) => r.prefix === '10.51.0.0/24'));
  assert.deepEqual(b.sp.routes().find((r) => r.prefix === '10.51.0.0/24')!.asPath, [65100]);
});

test('route reflection: client routes reach other clients with ORIGINATOR_ID and CLUSTER_LIST', async (t) => {
  t.after(stopAll);
  const rr = await node('127.0.6.1', 65000, { clusterId: '1.2.3.4' });
  const c1 = await node('127.0.6.2');
  const c2 = await node('127.0.6.3');
  link(rr, c1, { routeReflectorClient: true });
  link(rr, c2, { routeReflectorClient: true });
  await waitFor('sessions', () => up(rr, c1) && up(rr, c2));
  c1.sp.originate('10.60.0.0/26');
  await waitFor('reflected to c2', () => c2.prog.routes.has('10.60.0.0/26'));
  // next hop kept: c2 forwards straight to c1
  assert.deepEqual(c2.prog.routes.get('10.60.0.0/26'), ['127.0.6.2']);
});

test('iBGP non-client routes are not re-advertised to other iBGP peers', async (t) => {
  t.after(stopAll);
  const a = await node('127.0.7.1');
  const b = await node('127.0.7.2');
  const c = await node('127.0.7.3');
  link(a, b);
  link(b, c);
  await waitFor('sessions', () => up(a, b) && up(b, c));
  a.sp.originate('10.70.0.0/24');
  c.sp.originate('10.71.0.0/24');
  await waitFor(
    'b has both',
    () => b.prog.routes.has('10.70.0.0/24') && b.prog.routes.has('10.71.0.0/24'),
  );
  // give c's session a full exchange (route refresh round trip) before checking absence
  assert.equal(c.sp.refresh('127.0.7.2'), true);
  c.sp.originate('10.72.0.0/24');
  await waitFor('b has c marker', () => b.prog.routes.has('10.72.0.0/24'));
  assert.equal(c.prog.routes.has('10.70.0.0/24'), false);
});

test('multipath: the same prefix from two peers gives an ECMP route', async (t) => {
  t.after(stopAll);
  const a = await node('127.0.8.1');
  const b = await node('127.0.8.2');
  const c = await node('127.0.8.3');
  link(a, c);
  link(b, c);
  await waitFor('sessions', () => up(a, c) && up(b, c));
  a.sp.originate('10.80.0.1/32');
  b.sp.originate('10.80.0.1/32');
  await waitFor('ecmp', () => c.prog.routes.get('10.80.0.1/32')?.length === 2);
  assert.deepEqual(c.prog.routes.get('10.80.0.1/32'), ['127.0.8.1', '127.0.8.2']);
  a.sp.withdraw('10.80.0.1/32');
  await waitFor('single', () => c.prog.routes.get('10.80.0.1/32')?.length === 1);
  assert.deepEqual(c.prog.routes.get('10.80.0.1/32'), ['127.0.8.2']);
});

test('graceful restart: helper keeps routes, restarted speaker refreshes them, stale ones go after End-of-RIB', async (t) => {
  t.after(stopAll);
  const a = await node('127.0.9.1', 65000, { gracefulRestart: { restartTime: 30 } });
  const b = await node('127.0.9.2');
  link(a, b);
  await waitFor('session', () => up(a, b) && up(b, a));
  a.sp.originate('10.90.0.0/24');
  a.sp.originate('10.90.1.0/24');
  await waitFor('routes at b', () => b.prog.routes.size === 2);

  await a.sp.stop({ graceful: true });
  nodes.splice(nodes.indexOf(a), 1);
  await waitFor('b notices', () => !up(b, a));
  assert.equal(b.prog.routes.size, 2, 'routes kept while the peer restarts');
  assert.ok(b.sp.routes().every((r) => r.stale));

  // The new incarnation comes back on the same address and port, announcing one route only.
  const prog2 = new MemProgrammer();
  const a2 = await node(
    '127.0.9.1',
    65000,
    { listenPort: a.port, gracefulRestart: { restarting: true, restartTime: 30 } },
    prog2,
  );
  a2.sp.originate('10.90.0.0/24');
  a2.sp.addPeer(peerCfg(a2, b));
  await waitFor('b drops the stale route after End-of-RIB', () => b.prog.routes.size === 1);
  assert.ok(b.prog.routes.has('10.90.0.0/24'));
  assert.ok(b.sp.routes().every((r) => !r.stale));
  // a2 was restarting: it cleans up its own leftovers only after End-of-RIB from b
  await waitFor('a2 resynced', () => prog2.resynced === 1);
});

test('graceful restart: routes dropped when the peer does not return within its restart time', async (t) => {
  t.after(stopAll);
  const a = await node('127.0.10.1', 65000, { gracefulRestart: { restartTime: 1 } });
  const b = await node('127.0.10.2');
  link(a, b, {}, { connectRetryTime: 60 });
  await waitFor('session', () => up(a, b) && up(b, a));
  a.sp.originate('10.100.0.0/24');
  await waitFor('route', () => b.prog.routes.size === 1);
  await a.sp.stop({ graceful: true });
  nodes.splice(nodes.indexOf(a), 1);
  await waitFor('b notices', () => !up(b, a));
  await waitFor('dropped after restart time', () => b.prog.routes.size === 0);
});

test('non-graceful stop (Cease) withdraws immediately', async (t) => {
  t.after(stopAll);
  const a = await node('127.0.11.1', 65000, { gracefulRestart: { restartTime: 120 } });
  const b = await node('127.0.11.2');
  link(a, b);
  await waitFor('session', () => up(a, b) && up(b, a));
  a.sp.originate('10.110.0.0/24');
  await waitFor('route', () => b.prog.routes.size === 1);
  await a.sp.stop();
  nodes.splice(nodes.indexOf(a), 1);
  await waitFor('withdrawn', () => b.prog.routes.size === 0);
});
