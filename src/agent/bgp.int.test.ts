// calico-node's builtin BGP end to end: three real agents (the bundle; host1 and host2
// program their host namespaces from outside with CALICO_NETNS, host3 runs inside its
// namespace like calico-node on a real host) in Calico's default node-to-node mesh over
// IPv4 and IPv6, fed only by the datastore. Every host's blocks reach the other kernels (protocol 81);
// `calicoctl node status` prints the peers; a released block is withdrawn; a host that
// restarts gracefully keeps its routes at its peers for nodeMeshMaxRestartTime and no
// longer; a host that freezes loses them after the hold time.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readNodeStatus } from '../bgp/index.js';
import { loadDatastoreConfig, openBackend, ResourceClient } from '../datastore/index.js';
import { IpamClient } from '../ipam/index.js';
import { freePort } from '../testing/etcd.js';
import { NetnsLab, run } from '../testing/netns.js';
import {
  type AgentProcess,
  type Bundles,
  buildBundles,
  startAgent,
  stopAll,
  waitFor,
} from './testkit.js';

const HOLD = 3;
const RESTART = 10;
const HOSTS = [
  { name: 'host1', ip: '10.253.0.2', ip6: 'fd53::2' },
  { name: 'host2', ip: '10.253.0.3', ip6: 'fd53::3' },
  { name: 'host3', ip: '10.253.0.4', ip6: 'fd53::4' },
];
/** host3's agent runs inside its namespace, without CALICO_NETNS */
const INSIDE = 2;

let bundles: Bundles;
const dir = mkdtempSync(join(tmpdir(), 'ct-agent-bgp-'));
const lab = new NetnsLab('ctab');
const agents: (AgentProcess | undefined)[] = [];
const frozen: number[] = [];

before(async () => {
  bundles = await buildBundles();
});
after(async () => {
  for (const pid of frozen) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await stopAll(agents.filter((a): a is AgentProcess => a !== undefined));
  await lab.cleanup();
  bundles?.remove();
  rmSync(dir, { recursive: true, force: true });
});

const store = { DATASTORE_TYPE: 'embedded', CALICO_DATA_DIR: join(dir, 'data') };
const statusFile = (i: number) => join(dir, `${HOSTS[i]!.name}-bgp-status.json`);

/** Routes with our BGP protocol (81) in a namespace: prefix → sorted next hops. */
async function bgpRoutes(ns: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const fam of ['-4', '-6']) {
    const r = await run(['ip', '-n', ns, '-j', fam, 'route', 'show', 'proto', '81']);
    for (const e of JSON.parse(r.stdout || '[]') as {
      dst: string;
      gateway?: string;
      nexthops?: { gateway: string }[];
    }[]) {
      const hops = e.nexthops ? e.nexthops.map((n) => n.gateway) : [e.gateway ?? ''];
      const host = fam === '-4' ? '/32' : '/128';
      out.set(e.dst.includes('/') ? e.dst : `${e.dst}${host}`, hops.sort().join(','));
    }
  }
  return out;
}

/** The speaker process calico-node started for itself (a child carrying the marker). */
function speakerPid(agent: AgentProcess): number | undefined {
  const pid = agent.child.pid!;
  let kids: string[] = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
  } catch {
    return undefined;
  }
  for (const k of kids) {
    try {
      const env = readFileSync(`/proc/${k}/environ`, 'latin1').split('\0');
      if (env.includes('CALICO_BGP_SPEAKER=stdin')) return Number(k);
    } catch {
      // gone
    }
  }
  return undefined;
}

function ctlNodeStatus(i: number): { status: number | null; out: string } {
  const r = spawnSync(
    process.execPath,
    [bundles.ctl, 'node', 'status', '--status-file', statusFile(i)],
    {
      encoding: 'utf8',
    },
  );
  return { status: r.status, out: r.stdout + r.stderr };
}

test('three calico-nodes: mesh from the datastore, node status, release, graceful restart, frozen host', {
  timeout: 240_000,
}, async (t) => {
  const sw = await lab.addNamespace('sw');
  await lab.sh(sw, 'ip link add br0 type bridge && ip link set br0 up');
  const nss: string[] = [];
  for (const [i, h] of HOSTS.entries()) {
    const ns = await lab.addNamespace(h.name);
    nss.push(ns);
    await lab.veth(ns, 'eth0', sw, `p${i}`);
    await lab.sh(sw, `ip link set p${i} master br0 && ip link set p${i} up`);
    await lab.sh(ns, 'sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1');
    await lab.ipBatch(ns, [
      `addr add ${h.ip}/24 dev eth0`,
      `addr add ${h.ip6}/64 dev eth0 nodad`,
      'link set eth0 up',
    ]);
  }

  // The cluster: one pool, a short mesh restart time, and a block affine to each host.
  const backend = await openBackend(loadDatastoreConfig(store));
  t.after(() => backend.close());
  const client = new ResourceClient(backend);
  await client.create({
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPPool',
    metadata: { name: 'pool' },
    spec: { cidr: '10.66.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never' },
  } as never);
  await client.create({
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPPool',
    metadata: { name: 'pool6' },
    spec: { cidr: 'fd66::/48', blockSize: 122, ipipMode: 'Never', vxlanMode: 'Never' },
  } as never);
  await client.create({
    apiVersion: 'projectcalico.org/v3',
    kind: 'BGPConfiguration',
    metadata: { name: 'default' },
    spec: { nodeToNodeMeshEnabled: true, nodeMeshMaxRestartTime: `${RESTART}s` },
  } as never);
  const ipam = new IpamClient({ backend });
  const blocks: string[] = [];
  const blocks6: string[] = [];
  for (const h of HOSTS) {
    const r = await ipam.autoAssign({
      node: h.name,
      handleId: `test.${h.name}`,
      num4: 1,
      num6: 1,
    });
    blocks.push(r.ipv4[0]!.block);
    blocks6.push(r.ipv6[0]!.block);
  }

  const agentEnv = async (i: number) => ({
    ...store,
    NODENAME: HOSTS[i]!.name,
    IP: `${HOSTS[i]!.ip}/24`,
    IP6: `${HOSTS[i]!.ip6}/64`,
    ...(i === INSIDE ? {} : { CALICO_NETNS: nss[i]! }),
    NO_DEFAULT_POOLS: 'true',
    FELIX_HEALTHHOST: '127.0.0.1',
    FELIX_HEALTHPORT: String(await freePort()),
    FELIX_PROMETHEUSMETRICSENABLED: 'false',
    FELIX_ENDPOINTSTATUSPATHPREFIX: dir,
    CALICO_BGP_STATUS_FILE: statusFile(i),
    CALICO_BGP_HOLD_TIME: String(HOLD),
  });
  const envs = await Promise.all(HOSTS.map((_h, i) => agentEnv(i)));
  const launch = (i: number) =>
    startAgent(bundles.node, envs[i]!, i === INSIDE ? nss[i] : undefined);
  for (const i of HOSTS.keys()) agents[i] = launch(i);
  const logs = () => agents.map((a, i) => `--- ${HOSTS[i]!.name}\n${a?.log() ?? ''}`).join('\n');

  /** Whether `ns` routes `block` via `via` (or has no route for it when via is undefined). */
  const routeIs = async (at: number, block: string, via: string | undefined) =>
    (await bgpRoutes(nss[at]!)).get(block) === via;
  const allRoutes = async () => {
    for (const at of HOSTS.keys()) {
      const have = await bgpRoutes(nss[at]!);
      for (const from of HOSTS.keys()) {
        if (at === from) continue;
        if (have.get(blocks[from]!) !== HOSTS[from]!.ip) return false;
        if (have.get(blocks6[from]!) !== HOSTS[from]!.ip6) return false;
      }
    }
    return true;
  };

  await t.test('every block, IPv4 and IPv6, reaches the other two kernels', async () => {
    const t0 = Date.now();
    await waitFor('all block routes', allRoutes, 90_000, 100, logs);
    t.diagnostic(`mesh converged ${Date.now() - t0} ms after the agents started`);
    // Each host's own block is a blackhole in its own kernel, never a BGP route.
    for (const i of HOSTS.keys()) {
      const own = await bgpRoutes(nss[i]!);
      assert.equal(own.has(blocks[i]!) || own.has(blocks6[i]!), false);
    }
  });

  await t.test('calicoctl node status prints the mesh peers', async () => {
    await waitFor(
      'host1 status file with all four peers up',
      async () => ctlNodeStatus(0).out.split('| up ').length === 5,
      20_000,
    );
    const r = ctlNodeStatus(0);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /^Calico process is running\.\n\nIPv4 BGP status\n\+-/);
    assert.match(
      r.out,
      /\| 10\.253\.0\.3 +\| node-to-node mesh \| up +\| \d\d:\d\d:\d\d \| Established +\|/,
    );
    assert.match(r.out, /\| 10\.253\.0\.4 +\| node-to-node mesh \| up /);
    assert.match(r.out, /IPv6 BGP status\n\+-/);
    assert.match(r.out, /\| fd53::3 +\| node-to-node mesh \| up +\| [0-9:]+ \| Established +\|/);
    assert.match(r.out, /\| fd53::4 +\| node-to-node mesh \| up /);
    // The readiness endpoint reports the sessions too (informational).
    const ready = await fetch(`http://127.0.0.1:${envs[0]!.FELIX_HEALTHPORT}/readiness`);
    assert.deepEqual(((await ready.json()) as { bgp: unknown }).bgp, {
      speakerRunning: true,
      peers: 4,
      established: 4,
    });
  });

  await t.test('a new BGPPeer is added without resetting the other sessions', async () => {
    const meshSince = () =>
      (readNodeStatus(statusFile(0))?.peers ?? [])
        .filter((p) => p.type === 'node-to-node mesh')
        .map((p) => `${p.address}@${new Date(p.since).getTime()}`)
        .sort();
    const before = meshSince();
    assert.equal(before.length, 4);
    await client.create({
      apiVersion: 'projectcalico.org/v3',
      kind: 'BGPPeer',
      metadata: { name: 'tor' },
      spec: { node: 'host1', peerIP: '10.253.0.99', asNumber: 65099 },
    } as never);
    await waitFor(
      'host1 to list the new peer',
      async () => /\| 10\.253\.0\.99 +\| node specific +\| start /.test(ctlNodeStatus(0).out),
      20_000,
      100,
      logs,
    );
    assert.deepEqual(meshSince(), before);
    // only host1's speaker took it (BGPPeer.node)
    assert.doesNotMatch(ctlNodeStatus(1).out, /10\.253\.0\.99/);
    await client.delete('BGPPeer', 'tor');
    await waitFor(
      'host1 to drop the peer',
      async () => !ctlNodeStatus(0).out.includes('10.253.0.99'),
      20_000,
    );
    assert.deepEqual(meshSince(), before);
  });

  await t.test('a released block is withdrawn everywhere', async () => {
    await ipam.releaseByHandle('test.host2');
    await ipam.releaseHostAffinities('host2');
    await waitFor(
      'host2 block withdrawn',
      async () =>
        (await routeIs(0, blocks[1]!, undefined)) && (await routeIs(2, blocks[1]!, undefined)),
      30_000,
      100,
      logs,
    );
    await waitFor(
      'host2 IPv6 block withdrawn',
      async () => !(await bgpRoutes(nss[0]!)).has(blocks6[1]!),
      30_000,
      100,
      logs,
    );
    const r = await ipam.autoAssign({ node: 'host2', handleId: 'test.host2', num4: 1, num6: 1 });
    // The freed blocks are the first free ones again, so host2 claims the same.
    assert.deepEqual([r.ipv4[0]!.block, r.ipv6[0]!.block], [blocks[1], blocks6[1]]);
    await waitFor('host2 block back', allRoutes, 30_000, 100, logs);
  });

  await t.test('a new cluster AS restarts every speaker gracefully; routes stay', async () => {
    const cfg = (await client.get('BGPConfiguration', 'default'))!;
    await client.update({ ...cfg, spec: { ...cfg.spec, asNumber: 64513 } } as never);
    let dips = 0;
    await waitFor(
      'all mesh sessions re-established with AS 64513',
      async () => {
        if (!(await allRoutes())) dips++;
        return HOSTS.every((_h, i) => {
          const peers = readNodeStatus(statusFile(i))?.peers ?? [];
          return peers.length === 4 && peers.every((p) => p.asNumber === 64513 && p.state === 'up');
        });
      },
      60_000,
      100,
      logs,
    );
    assert.ok(await allRoutes());
    t.diagnostic(`route checks that missed a block while the speakers restarted: ${dips}`);
  });

  await t.test(
    'graceful restart: routes kept for nodeMeshMaxRestartTime, then withdrawn',
    async () => {
      const stoppedAt = Date.now();
      await agents[2]!.stop('SIGTERM');
      agents[2] = undefined;
      // The stopping node removes its status file: calicoctl says it is not running.
      const st = ctlNodeStatus(2);
      assert.equal(st.status, 1);
      assert.match(st.out, /^Calico process is not running\./);
      // Well past the hold time, host1 and host2 still forward to host3's block (stale).
      await waitFor(
        'host1 to see host3 down',
        async () => !/10\.253\.0\.4 +\| node-to-node mesh \| up/.test(ctlNodeStatus(0).out),
        10_000,
      );
      await new Promise((r) => setTimeout(r, (HOLD + 2) * 1000));
      assert.ok(await routeIs(0, blocks[2]!, HOSTS[2]!.ip), 'host1 kept host3 block');
      assert.ok(await routeIs(1, blocks[2]!, HOSTS[2]!.ip), 'host2 kept host3 block');
      // host3 itself keeps forwarding on what it had learned (its speaker is gone).
      assert.ok(await routeIs(2, blocks[0]!, HOSTS[0]!.ip), 'host3 kept host1 block');
      await waitFor(
        'host3 block withdrawn after the restart time',
        async () =>
          (await routeIs(0, blocks[2]!, undefined)) && (await routeIs(1, blocks[2]!, undefined)),
        RESTART * 1000 + 10_000,
        100,
        logs,
      );
      t.diagnostic(
        `stale routes of the stopped host kept for ${Date.now() - stoppedAt} ms (restart time ${RESTART} s)`,
      );
      agents[2] = launch(2);
      await waitFor('host3 block back after restart', allRoutes, 60_000, 100, logs);
    },
  );

  await t.test('a frozen host loses its routes after the hold time', async () => {
    const agent = agents[2]!;
    const sp = await waitFor('host3 speaker pid', async () => speakerPid(agent), 10_000);
    // Sessions are up again before freezing, so only the hold timer can notice.
    await waitFor(
      'host1 sees host3 up',
      async () => /10\.253\.0\.4 +\| node-to-node mesh \| up/.test(ctlNodeStatus(0).out),
      30_000,
    );
    frozen.push(sp, agent.child.pid!);
    process.kill(agent.child.pid!, 'SIGSTOP');
    process.kill(sp, 'SIGSTOP');
    const t0 = Date.now();
    await waitFor(
      'host3 block withdrawn after the hold time',
      async () =>
        (await routeIs(0, blocks[2]!, undefined)) && (await routeIs(1, blocks[2]!, undefined)),
      HOLD * 1000 + 15_000,
      100,
      logs,
    );
    t.diagnostic(
      `frozen host's routes withdrawn ${Date.now() - t0} ms after freezing (hold time ${HOLD} s)`,
    );
    // host1 and host2 still route to each other.
    assert.ok(await routeIs(0, blocks[1]!, HOSTS[1]!.ip));
    assert.ok(await routeIs(1, blocks[0]!, HOSTS[0]!.ip));
  });

  await t.test('route reflector: mesh off, host1 reflects between host2 and host3', async () => {
    // host3 thaws and rejoins first.
    for (const pid of frozen) process.kill(pid, 'SIGCONT');
    await waitFor('host3 back after thawing', allRoutes, 60_000, 100, logs);
    // Calico's documented set-up: a cluster id and a label on the reflector, one BGPPeer
    // (the reflector's sessions to its clients come from reverse peering), mesh off.
    const n1 = (await client.get('Node', 'host1'))!;
    await client.update({
      ...n1,
      metadata: { ...n1.metadata, labels: { ...n1.metadata.labels, 'route-reflector': 'true' } },
      spec: { ...n1.spec, bgp: { ...n1.spec.bgp, routeReflectorClusterID: '244.0.0.1' } },
    } as never);
    await client.create({
      apiVersion: 'projectcalico.org/v3',
      kind: 'BGPPeer',
      metadata: { name: 'peer-with-route-reflectors' },
      spec: { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" },
    } as never);
    const cfg = (await client.get('BGPConfiguration', 'default'))!;
    // nodeMeshMaxRestartTime is only valid with the mesh on.
    const { nodeMeshMaxRestartTime: _mesh, ...spec } = cfg.spec;
    await client.update({ ...cfg, spec: { ...spec, nodeToNodeMeshEnabled: false } } as never);
    const peersOf = (i: number) =>
      (readNodeStatus(statusFile(i))?.peers ?? [])
        .filter((p) => p.state === 'up')
        .map((p) => `${p.address} ${p.type}`)
        .sort();
    await waitFor(
      'clients peered only with the reflector, the reflector with both',
      async () =>
        JSON.stringify([peersOf(0), peersOf(1), peersOf(2)]) ===
        JSON.stringify([
          [
            '10.253.0.3 node specific',
            '10.253.0.4 node specific',
            'fd53::3 node specific',
            'fd53::4 node specific',
          ],
          ['10.253.0.2 node specific', 'fd53::2 node specific'],
          ['10.253.0.2 node specific', 'fd53::2 node specific'],
        ]),
      60_000,
      100,
      logs,
    );
    // host2 and host3 have no session with each other: their routes to each other's
    // blocks (next hop kept, on the shared segment) are reflected by host1.
    await waitFor('every block everywhere through the reflector', allRoutes, 30_000, 100, logs);
  });
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
  );
});
