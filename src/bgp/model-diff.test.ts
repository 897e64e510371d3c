// From one datastore state to the next as speaker operations: only what changed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BgpModelInput, bgpConfigForNode } from './model.js';
import { applyBgpDiff, diffBgpConfig, isEmptyDiff, type SpeakerControl } from './model-diff.js';
import { affinity, bgpConfig, block, node, peer, pool } from './model-testkit.js';
import type { PeerConfig } from './types.js';

const base: BgpModelInput = {
  nodes: [
    node('a', { ipv4Address: '10.0.0.1/24' }),
    node('b', { ipv4Address: '10.0.0.2/24' }),
    node('c', { ipv4Address: '10.0.0.3/24' }),
  ],
  ipPools: [pool('default', '10.244.0.0/16')],
  affinities: [affinity('a', '10.244.1.0/26')],
  blocks: [block('10.244.1.0/26', 'a', { 0: 'a' }), block('10.244.2.0/26', 'b', { 5: 'a' })],
};

class Recorder implements SpeakerControl {
  ops: string[] = [];
  addPeer(p: PeerConfig): void {
    this.ops.push(`add ${p.name}`);
  }
  removePeer(address: string): void {
    this.ops.push(`remove ${address}`);
  }
  originate(prefix: string): void {
    this.ops.push(`originate ${prefix}`);
  }
  withdraw(prefix: string): void {
    this.ops.push(`withdraw ${prefix}`);
  }
}

const cfg = (input: BgpModelInput) => bgpConfigForNode('a', input);

test('no change, no operations; first config needs a speaker', () => {
  assert.ok(isEmptyDiff(diffBgpConfig(cfg(base), cfg(base))));
  const first = diffBgpConfig(undefined, cfg(base));
  assert.equal(first.restart, true);
  assert.deepEqual(first.originate, ['10.244.1.0/26', '10.244.2.5/32']);
  assert.throws(() => applyBgpDiff(new Recorder(), first), /needs a new speaker/);
  assert.equal(diffBgpConfig(cfg(base), undefined).restart, true);
});

test('a node joining adds one mesh peer; a node leaving removes it', () => {
  const joined = { ...base, nodes: [...base.nodes, node('d', { ipv4Address: '10.0.0.4/24' })] };
  const d = diffBgpConfig(cfg(base), cfg(joined));
  assert.equal(d.restart, false);
  const r = new Recorder();
  applyBgpDiff(r, d);
  assert.deepEqual(r.ops, ['add Mesh_10_0_0_4']);
  const back = new Recorder();
  applyBgpDiff(back, diffBgpConfig(cfg(joined), cfg(base)));
  assert.deepEqual(back.ops, ['remove 10.0.0.4']);
});

test('a changed peer is reset; untouched sessions stay', () => {
  const next = {
    ...base,
    nodes: [
      base.nodes[0]!,
      base.nodes[1]!,
      node('c', { ipv4Address: '10.0.0.3/24', asNumber: 65003 }),
    ],
  };
  const r = new Recorder();
  applyBgpDiff(r, diffBgpConfig(cfg(base), cfg(next)));
  assert.deepEqual(r.ops, ['remove 10.0.0.3', 'add Mesh_10_0_0_3']);
});

test('a mesh peer replaced by an explicit BGPPeer of the same address is a change', () => {
  const next = {
    ...base,
    bgpPeers: [peer('p', { node: 'a', peerIP: '10.0.0.2', asNumber: 65009 })],
  };
  const d = diffBgpConfig(cfg(base), cfg(next));
  assert.deepEqual(
    d.changePeers.map((p) => p.name),
    ['Node_10_0_0_2'],
  );
  assert.deepEqual(d.addPeers, []);
  assert.deepEqual(d.removePeers, []);
});

test('block claimed and released, borrowed address freed: originate and withdraw only', () => {
  const claimed = {
    ...base,
    affinities: [...base.affinities!, affinity('a', '10.244.3.0/26')],
    blocks: [base.blocks![0]!, block('10.244.2.0/26', 'b', {})],
  };
  const r = new Recorder();
  applyBgpDiff(r, diffBgpConfig(cfg(base), cfg(claimed)));
  assert.deepEqual(r.ops, ['withdraw 10.244.2.5/32', 'originate 10.244.3.0/26']);
});

test('speaker-wide changes (AS, listen port, cluster id) need a restart', () => {
  for (const next of [
    { ...base, bgpConfigurations: [bgpConfig('default', { asNumber: 65000 })] },
    { ...base, bgpConfigurations: [bgpConfig('node.a', { listenPort: 1790 })] },
    {
      ...base,
      nodes: [
        node('a', { ipv4Address: '10.0.0.1/24', routeReflectorClusterID: '1.1.1.1' }),
        ...base.nodes.slice(1),
      ],
    },
  ]) {
    assert.equal(diffBgpConfig(cfg(base), cfg(next)).restart, true);
  }
});
