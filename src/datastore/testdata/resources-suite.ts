// Resource client behaviour, run against every backend by the conformance test files.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { IPPool, NetworkPolicy } from '../../api/index.js';
import {
  type Backend,
  blockAffinityKey,
  compareRevisions,
  ipamBlockKey,
  ipamHandleKey,
  ResourceClient,
  type ResourceEvent,
} from '../index.js';
import { expectCode, type Store, take } from './conformance.js';

const pool = (name: string, cidr: string): IPPool =>
  ({
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPPool',
    metadata: { name },
    spec: { cidr },
  }) as IPPool;

const policy = (name: string, namespace?: string): NetworkPolicy =>
  ({
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
    metadata: namespace === undefined ? { name } : { name, namespace },
    spec: { selector: "app == 'db'", ingress: [{ action: 'Allow' }] },
  }) as NetworkPolicy;

async function expectValidation(p: Promise<unknown>, rule: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    const e = err as { code?: string; errors?: { rule: string }[] };
    assert.equal(e.code, 'VALIDATION', String(err));
    assert.ok(
      e.errors?.some((x) => x.rule === rule),
      `expected rule ${rule} in ${JSON.stringify(e.errors)}`,
    );
    return true;
  });
}

export function runResourceConformance(name: string, setup: () => Promise<Store>): void {
  describe(`resource client: ${name}`, () => {
    let store: Store;
    let backend: Backend;
    let rc: ResourceClient;

    before(async () => {
      store = await setup();
      backend = await store.open();
      rc = new ResourceClient(backend);
    });
    after(async () => {
      await backend?.close();
      await store?.teardown();
    });

    test('create sets uid, creationTimestamp and resourceVersion, stores at the Calico key', async () => {
      const created = await rc.create(pool('pool-a', '10.200.0.0/16'));
      const meta = created.metadata;
      assert.match(
        meta.uid ?? '',
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      assert.match(String(meta.creationTimestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const kv = await backend.get('/calico/resources/v3/projectcalico.org/ippools/pool-a');
      assert.ok(kv !== undefined);
      assert.equal(meta.resourceVersion, kv.modRevision);
      // Defaults were applied before storing, and resourceVersion is never stored.
      const stored = JSON.parse(kv.value) as IPPool;
      assert.equal(stored.spec.blockSize, 26);
      assert.equal(stored.metadata.resourceVersion, undefined);
      assert.deepEqual(await rc.get('IPPool', 'pool-a'), created);
      await expectCode(rc.create(pool('pool-a', '10.201.0.0/16')), 'KEY_EXISTS');
    });

    test('validation rejects bad documents before anything is written', async () => {
      const before = await backend.currentRevision();
      await expectValidation(rc.create(pool('pool-bad', '10.200.0.1/16')), 'cidr');
      await expectValidation(
        rc.create({
          ...pool('pool-ns', '10.9.0.0/16'),
          metadata: { name: 'pool-ns', namespace: 'x' },
        }),
        'namespace-not-allowed',
      );
      const good = await rc.create(pool('pool-b', '10.202.0.0/16'));
      const afterCreate = await backend.currentRevision();
      await expectValidation(
        rc.update({ ...good, spec: { ...good.spec, cidr: 'nonsense' } }),
        'cidr',
      );
      await expectValidation(
        rc.apply({ ...good, spec: { ...good.spec, cidr: 'nonsense' } }),
        'cidr',
      );
      assert.equal(await backend.currentRevision(), afterCreate);
      assert.equal(compareRevisions(afterCreate, before), 1);
      assert.equal((await rc.get('IPPool', 'pool-b'))?.spec.cidr, '10.202.0.0/16');
    });

    test('a stale resourceVersion conflicts and never overwrites; uid and creationTimestamp survive updates', async () => {
      const v1 = await rc.create(pool('pool-c', '10.203.0.0/16'));
      const v2 = await rc.update({ ...v1, spec: { ...v1.spec, disabled: true } });
      assert.equal(v2.metadata.uid, v1.metadata.uid);
      assert.equal(v2.metadata.creationTimestamp, v1.metadata.creationTimestamp);
      assert.equal(compareRevisions(v2.metadata.resourceVersion!, v1.metadata.resourceVersion!), 1);
      // A writer still holding v1 loses.
      await expectCode(rc.update({ ...v1, spec: { ...v1.spec, natOutgoing: true } }), 'CONFLICT');
      const now = await rc.get('IPPool', 'pool-c');
      assert.equal(now?.spec.disabled, true);
      assert.notEqual(now?.spec.natOutgoing, true);
      // A caller cannot change uid or creationTimestamp.
      const v3 = await rc.update({
        ...v2,
        metadata: { ...v2.metadata, uid: 'forged', creationTimestamp: '2000-01-01T00:00:00Z' },
      });
      assert.equal(v3.metadata.uid, v1.metadata.uid);
      assert.equal(v3.metadata.creationTimestamp, v1.metadata.creationTimestamp);
      // Update without a resourceVersion replaces whatever is stored.
      const { resourceVersion: _rv, ...metaNoRv } = v3.metadata;
      const v4 = await rc.update({
        ...v3,
        metadata: metaNoRv,
        spec: { ...v3.spec, disabled: false },
      });
      assert.equal(v4.spec.disabled, false);
      await expectCode(
        rc.delete('IPPool', 'pool-c', { resourceVersion: v3.metadata.resourceVersion! }),
        'CONFLICT',
      );
      const gone = await rc.delete('IPPool', 'pool-c', {
        resourceVersion: v4.metadata.resourceVersion!,
      });
      assert.equal(gone.metadata.uid, v1.metadata.uid);
      assert.equal(await rc.get('IPPool', 'pool-c'), undefined);
      await expectCode(rc.delete('IPPool', 'pool-c'), 'NOT_FOUND');
      await expectCode(rc.update(v4), 'NOT_FOUND');
    });

    test('apply creates, then replaces, keeping uid', async () => {
      const a = await rc.apply(pool('pool-d', '10.204.0.0/16'));
      const b = await rc.apply({
        ...pool('pool-d', '10.204.0.0/16'),
        spec: { cidr: '10.204.0.0/16', natOutgoing: true },
      } as IPPool);
      assert.equal(b.metadata.uid, a.metadata.uid);
      assert.equal(b.spec.natOutgoing, true);
      // Many concurrent appliers: every one succeeds, one uid, last write wins whole.
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          rc.apply({
            ...pool('pool-e', '10.205.0.0/16'),
            spec: { cidr: '10.205.0.0/16', blockSize: 24 + (i % 3) },
          } as IPPool),
        ),
      );
      assert.equal(new Set(results.map((r) => r.metadata.uid)).size, 1);
      const final = await rc.get('IPPool', 'pool-e');
      assert.ok(
        results.some((r) => r.metadata.resourceVersion === final?.metadata.resourceVersion),
      );
    });

    test('namespaced kinds: keys, default namespace, list per namespace and across', async () => {
      await rc.create(policy('allow-db', 'prod'));
      await rc.create(policy('allow-db', 'dev'));
      const dflt = await rc.create(policy('allow-db'));
      assert.equal(dflt.metadata.namespace, 'default');
      for (const ns of ['prod', 'dev', 'default']) {
        assert.ok(
          await backend.get(
            `/calico/resources/v3/projectcalico.org/networkpolicies/${ns}/allow-db`,
          ),
        );
      }
      assert.equal(
        rc.keyFor('NetworkPolicy', 'x', 'prod'),
        '/calico/resources/v3/projectcalico.org/networkpolicies/prod/x',
      );
      assert.equal(rc.keyFor('IPPool', 'x'), '/calico/resources/v3/projectcalico.org/ippools/x');
      const prod = await rc.list('NetworkPolicy', { namespace: 'prod' });
      assert.deepEqual(
        prod.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
        ['prod/allow-db'],
      );
      const all = await rc.list('NetworkPolicy');
      assert.deepEqual(all.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).sort(), [
        'default/allow-db',
        'dev/allow-db',
        'prod/allow-db',
      ]);
      assert.ok(all.items.every((p) => typeof p.metadata.resourceVersion === 'string'));
      assert.equal(
        (await rc.get('NetworkPolicy', 'allow-db', { namespace: 'dev' }))?.metadata.namespace,
        'dev',
      );
      await rc.delete('NetworkPolicy', 'allow-db', { namespace: 'dev' });
      assert.equal(await rc.get('NetworkPolicy', 'allow-db', { namespace: 'dev' }), undefined);
      assert.ok(await rc.get('NetworkPolicy', 'allow-db', { namespace: 'prod' }));
    });

    test('list + watch from the list revision: added, modified, deleted, no gap', async () => {
      await rc.create(pool('w-1', '10.210.0.0/16'));
      const listed = await rc.list('IPPool');
      assert.ok(listed.items.some((p) => p.metadata.name === 'w-1'));
      const watch = rc.watch('IPPool', { fromRevision: String(BigInt(listed.revision) + 1n) });
      try {
        const two = await rc.create(pool('w-2', '10.211.0.0/16'));
        const two2 = await rc.update({ ...two, spec: { ...two.spec, disabled: true } });
        await rc.delete('IPPool', 'w-2');
        const evs = (await take(watch, 3)) as ResourceEvent<IPPool>[];
        assert.deepEqual(
          evs.map((e) => e.type),
          ['added', 'modified', 'deleted'],
        );
        const [added, modified, deleted] = evs;
        assert.equal(added?.type === 'added' && added.resource.metadata.uid, two.metadata.uid);
        assert.equal(
          modified?.type === 'modified' && modified.resource.metadata.resourceVersion,
          two2.metadata.resourceVersion,
        );
        assert.equal(modified?.type === 'modified' && modified.previous?.spec.disabled, undefined);
        assert.equal(deleted?.type === 'deleted' && deleted.resource?.spec.disabled, true);
      } finally {
        await watch.close();
      }
    });

    test('IPAM internals are raw keys in the Calico layout, reachable through the backend', async () => {
      assert.equal(
        ipamBlockKey('10.244.1.0/26'),
        '/calico/ipam/v2/assignment/ipv4/block/10.244.1.0-26',
      );
      assert.equal(
        ipamBlockKey('fd00:1::/122'),
        '/calico/ipam/v2/assignment/ipv6/block/fd00:1::-122',
      );
      assert.equal(
        blockAffinityKey('node-1', '10.244.1.0/26'),
        '/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.0-26',
      );
      assert.equal(
        ipamHandleKey('k8s-pod-network.abc'),
        '/calico/ipam/v2/handle/k8s-pod-network.abc',
      );
      const block = await rc.backend.create(
        ipamBlockKey('10.244.1.0/26'),
        JSON.stringify({ cidr: '10.244.1.0/26' }),
      );
      await expectCode(
        rc.backend.update(
          ipamBlockKey('10.244.1.0/26'),
          '{}',
          String(BigInt(block.modRevision) - 1n),
        ),
        'CONFLICT',
      );
    });
  });
}
