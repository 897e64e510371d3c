import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ResourceUpdate } from '../calc/index.js';
import { EmbeddedBackend } from '../datastore/index.js';
import { Syncer, toResource } from './syncer.js';

const P = '/calico/resources/v3/projectcalico.org/';
const gnp = (name: string, order: number) =>
  JSON.stringify({
    apiVersion: 'projectcalico.org/v3',
    kind: 'GlobalNetworkPolicy',
    metadata: { name },
    spec: { order, selector: 'all()' },
  });

test('IPAM keys become the IPAMBlock / BlockAffinity resources the calc graph reads', () => {
  const block = toResource(
    '/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26',
    JSON.stringify({ cidr: '10.0.0.0/26', affinity: 'host:h1', allocations: [] }),
  );
  assert.equal(block?.kind, 'IPAMBlock');
  assert.equal((block!.spec as { affinity: string }).affinity, 'host:h1');
  const aff = toResource('/calico/ipam/v2/host/h1/ipv4/block/10.0.0.0-26', '{"state":""}');
  assert.deepEqual(aff?.spec, {
    node: 'h1',
    cidr: '10.0.0.0/26',
    state: 'confirmed',
    deleted: false,
  });
  assert.equal(toResource('/calico/ipam/v2/handle/x', '{}'), undefined);
  assert.equal(toResource('/calico/felix/v2/no-region/host/h1/status', '{}'), undefined);
  assert.equal(toResource(`${P}globalnetworkpolicies/x`, 'not json'), undefined);
});

test('after in-sync, only the difference arrives (live, or by relisting after compaction)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-syncer-'));
  const backend = new EmbeddedBackend({ path: join(dir, 'calico.db'), historyRevisions: 1 });
  const batches: ResourceUpdate[][] = [];
  let inSync = 0;
  const syncer = new Syncer(
    backend,
    {
      onUpdates: (u) => batches.push(u),
      onInSync: () => inSync++,
      onStatus: () => {},
      onResyncStarted: () => {},
      onError: () => {},
    },
    { minBackoffMs: 10, maxBackoffMs: 20 },
  );
  try {
    await backend.put(`${P}globalnetworkpolicies/keep`, gnp('keep', 1));
    await backend.put(`${P}globalnetworkpolicies/gone`, gnp('gone', 2));
    await backend.put(`${P}globalnetworkpolicies/change`, gnp('change', 3));
    syncer.start();
    const deadline = Date.now() + 10000;
    while (inSync === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(inSync, 1);
    assert.equal(batches.flat().length, 3);
    // Force a resync-needed: stop consuming, then write and compact past the watch.
    batches.length = 0;
    await backend.delete(`${P}globalnetworkpolicies/gone`);
    await backend.put(`${P}globalnetworkpolicies/change`, gnp('change', 4));
    await backend.compact(await backend.currentRevision());
    while (batches.flat().length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const flat = batches.flat();
    const names = flat.map((u) =>
      u.type === 'delete' ? `-${u.name}` : `+${u.resource.metadata?.name}`,
    );
    assert.deepEqual(names.sort(), ['+change', '-gone']);
    assert.equal(inSync, 1, 'in-sync is reported once');
  } finally {
    await syncer.stop();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
