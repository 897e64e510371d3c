// Calico's BGP model end to end: three nodes on one L2 segment (a bridge in its own
// namespace), each speaker configured only by bgpConfigForNode from datastore resources.
// Block routes and a borrowed /32 reach the other kernels, a disabled pool's block does
// not, the status file prints as `calicoctl node status`, and a released block and freed
// borrowed address are withdrawn through the diff helper without resetting sessions.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { type BgpModelInput, bgpConfigForNode, type NodeBgpConfig } from './model.js';
import { applyBgpDiff, diffBgpConfig, type SpeakerControl } from './model-diff.js';
import { affinity, block, node, pool } from './model-testkit.js';
import { formatNodeStatus, readNodeStatus } from './node-status.js';
import { BgpLab, kernelRoutes, type SpeakerProcess, waitFor } from './test-lab.js';
import type { PeerConfig } from './types.js';

// n2 and n3 exercise the lexical passive rule: "10.252.0.10" < "10.252.0.9".
const NODES = [
  { name: 'n1', v4: '10.252.0.2', v6: 'fd52::2' },
  { name: 'n2', v4: '10.252.0.9', v6: 'fd52::9' },
  { name: 'n3', v4: '10.252.0.10', v6: 'fd52::a' },
];

const initial: BgpModelInput = {
  nodes: NODES.map((n) => node(n.name, { ipv4Address: `${n.v4}/24`, ipv6Address: `${n.v6}/64` })),
  ipPools: [
    pool('v4', '10.250.0.0/16'),
    pool('v6', 'fd50::/48'),
    pool('off', '10.251.0.0/16', { disabled: true }),
  ],
  affinities: [
    affinity('n1', '10.250.1.0/26'),
    affinity('n1', 'fd50::/122'),
    affinity('n2', '10.250.2.0/26'),
    affinity('n2', '10.251.0.0/26'),
    affinity('n3', '10.250.3.0/26'),
  ],
  blocks: [
    // n3 borrowed 10.250.1.7 from n1's block.
    block('10.250.1.0/26', 'n1', { 0: 'n1', 7: 'n3' }),
    block('10.250.2.0/26', 'n2', { 0: 'n2' }),
    block('10.250.3.0/26', 'n3', { 0: 'n3' }),
  ],
};

/** The speaker-process control channel as a SpeakerControl; `flush` awaits the replies. */
function control(sp: SpeakerProcess) {
  const pending: Promise<unknown>[] = [];
  const c: SpeakerControl = {
    addPeer: (peer: PeerConfig) => void pending.push(sp.request('addPeer', { peer })),
    removePeer: (address: string) => void pending.push(sp.request('removePeer', { address })),
    originate: (prefix: string) => void pending.push(sp.request('originate', { prefix })),
    withdraw: (prefix: string) => void pending.push(sp.request('withdraw', { prefix })),
  };
  return { c, flush: () => Promise.all(pending.splice(0)) };
}

test('BGP model: mesh from resources, block routes in every kernel, release withdraws', {
  timeout: 300_000,
}, async (t) => {
  const lab = new BgpLab('ctbm');
  t.after(() => lab.cleanup());
  const sw = await lab.ns('sw');
  await lab.lab.sh(sw, 'ip link add br0 type bridge && ip link set br0 up');
  const nss: string[] = [];
  for (const [i, n] of NODES.entries()) {
    const ns = await lab.ns(n.name);
    nss.push(ns);
    await lab.lab.veth(ns, 'eth0', sw, `p${i}`);
    await lab.lab.sh(sw, `ip link set p${i} master br0 && ip link set p${i} up`);
    await lab.lab.sh(
      ns,
      'sysctl -qw net.ipv6.conf.eth0.accept_dad=0 net.ipv6.conf.all.forwarding=1',
    );
    await lab.lab.ipBatch(ns, [
      `addr add ${n.v4}/24 dev eth0`,
      `addr add ${n.v6}/64 dev eth0 nodad`,
      'link set eth0 up',
    ]);
  }

  const configs: NodeBgpConfig[] = NODES.map((n) => bgpConfigForNode(n.name, initial)!);
  assert.deepEqual(configs[0]!.prefixes, ['10.250.1.0/26', 'fd50::/122']);
  assert.deepEqual(configs[2]!.prefixes, ['10.250.1.7/32', '10.250.3.0/26']);
  const statusFiles = NODES.map((n) => join(lab.dir, `${n.name}-bgp-status.json`));
  const speakers: SpeakerProcess[] = [];
  for (const [i, cfg] of configs.entries()) {
    const sp = await lab.speaker(nss[i]!, { ...cfg.speaker, statusFile: statusFiles[i] });
    await sp.request('originate', { prefixes: cfg.prefixes });
    speakers.push(sp);
  }
  const routesAt = (i: number) => kernelRoutes(nss[i]!, 81);

  await t.test('every block and the borrowed /32 reach the other kernels', async () => {
    for (const sp of speakers) {
      await waitFor(
        'mesh established',
        async () => {
          const st = await sp.status();
          return st.length === 4 && st.every((s) => s.bgpState === 'Established');
        },
        120_000,
      );
    }
    const want: Array<[number, string, string]> = [
      [0, '10.250.2.0/26', '10.252.0.9'],
      [0, '10.250.3.0/26', '10.252.0.10'],
      [0, '10.250.1.7/32', '10.252.0.10'],
      [1, '10.250.1.0/26', '10.252.0.2'],
      [1, '10.250.1.7/32', '10.252.0.10'],
      [1, 'fd50::/122', 'fd52::2'],
      [2, '10.250.1.0/26', '10.252.0.2'],
      [2, '10.250.2.0/26', '10.252.0.9'],
      [2, 'fd50::/122', 'fd52::2'],
    ];
    for (const [at, prefix, via] of want) {
      await waitFor(
        `${prefix} via ${via} at ${NODES[at]!.name}`,
        async () => (await routesAt(at)).get(prefix)?.join() === via,
        60_000,
      );
    }
    // The disabled pool's block is never announced.
    for (const i of [0, 2]) assert.equal((await routesAt(i)).has('10.251.0.0/26'), false);
  });

  await t.test('the status file prints as calicoctl node status', async () => {
    const st = await waitFor('status file with both mesh peers up', () => {
      const s = readNodeStatus(statusFiles[0]!);
      return s && s.peers.filter((p) => p.state === 'up').length === 4 ? s : undefined;
    });
    const v4 = formatNodeStatus(st.peers, 4).split('\n');
    assert.equal(v4[0], 'IPv4 BGP status');
    assert.equal(v4[2], '| PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |    INFO     |');
    assert.match(
      v4[4]!,
      /^\| 10\.252\.0\.10 {2}\| node-to-node mesh \| up {4}\| \d\d:\d\d:\d\d \| Established \|$/,
    );
    assert.match(v4[5]!, /^\| 10\.252\.0\.9 {3}\| node-to-node mesh \| up {4}\| /);
    assert.match(formatNodeStatus(st.peers, 6), /\| fd52::9 {6}\| node-to-node mesh \| up /);
  });

  await t.test(
    'a released block and a freed borrowed address are withdrawn; sessions stay',
    async () => {
      const before = await speakers[0]!.status();
      const released: BgpModelInput = {
        ...initial,
        affinities: initial.affinities!.filter((a) => a.spec.cidr !== '10.250.2.0/26'),
        blocks: [block('10.250.1.0/26', 'n1', { 0: 'n1' }), initial.blocks![2]!],
      };
      for (const i of [1, 2]) {
        const next = bgpConfigForNode(NODES[i]!.name, released)!;
        const d = diffBgpConfig(configs[i], next);
        assert.equal(d.restart, false);
        assert.deepEqual(d.addPeers.length + d.removePeers.length + d.changePeers.length, 0);
        const { c, flush } = control(speakers[i]!);
        applyBgpDiff(c, d);
        await flush();
      }
      await waitFor(
        'n1 withdraws 10.250.2.0/26 and 10.250.1.7/32',
        async () => {
          const r = await routesAt(0);
          return !r.has('10.250.2.0/26') && !r.has('10.250.1.7/32') && r.has('10.250.3.0/26');
        },
        60_000,
      );
      await waitFor(
        'n3 withdraws 10.250.2.0/26',
        async () => !(await routesAt(2)).has('10.250.2.0/26'),
      );
      const after = await speakers[0]!.status();
      assert.deepEqual(
        after.map((s) => [s.address, s.bgpState, s.since]),
        before.map((s) => [s.address, s.bgpState, s.since]),
      );
    },
  );

  await t.test('a stopped speaker removes its status file', async () => {
    await speakers[0]!.request('stop').catch(() => undefined);
    await speakers[0]!.exited;
    assert.equal(readNodeStatus(statusFiles[0]!), undefined);
  });
});
