// What the kernel holds after a sequence of incremental transactions (sent through the
// long-lived `nft -i`) must be what a full program of the final state gives, read back
// from the kernel and compared object by object.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { DesiredStateUpdate } from '../calc/index.js';
import { NetnsLab, run } from '../testing/netns.js';
import { policy, profile, rule, TCP, tier, updatesFor, workload } from './fixtures.js';
import { Dataplane, ipSetName } from './index.js';

const SETS = ['s0', 's1', 's2'];
const IFACES = ['cali0', 'cali1', 'cali2', 'cali3', 'cali4'];
const POLS = ['p0', 'p1', 'p2'];
const PROS = ['r0', 'r1'];

const opArb: fc.Arbitrary<DesiredStateUpdate> = fc.oneof(
  fc
    .record({
      n: fc.integer({ min: 0, max: 3 }),
      iface: fc.constantFrom(...IFACES),
      up: fc.boolean(),
      ing: fc.subarray(POLS),
      eg: fc.subarray(POLS),
      pros: fc.subarray(PROS),
    })
    .map(({ n, iface, up, ing, eg, pros }) => ({
      type: 'workloadEndpointUpdate' as const,
      endpoint: workload(`ns/w${n}`, iface, `10.0.0.${n + 1}`, `fd00::${n + 1}`, {
        adminUp: up,
        tiers: ing.length + eg.length > 0 ? [tier('default', ing, eg)] : [],
        profileIds: pros,
      }),
    })),
  fc
    .integer({ min: 0, max: 3 })
    .map((n) => ({ type: 'workloadEndpointRemove' as const, id: `ns/w${n}` })),
  fc
    .record({ id: fc.constantFrom(...POLS), set: fc.constantFrom(...SETS), port: fc.nat(3) })
    .map(({ id, set, port }) => ({
      type: 'policyUpdate' as const,
      policy: policy(id, [
        rule('allow', {
          protocol: TCP,
          src: { ipSetIds: [set] },
          dst: { ports: [{ first: 80 + port, last: 80 + port }] },
        }),
      ]),
    })),
  fc.constantFrom(...POLS).map((id) => ({ type: 'policyRemove' as const, id })),
  fc.record({ id: fc.constantFrom(...PROS), allow: fc.boolean() }).map(({ id, allow }) => ({
    type: 'profileUpdate' as const,
    profile: profile(id, [rule(allow ? 'allow' : 'deny')], [rule('allow')]),
  })),
  fc.constantFrom(...PROS).map((id) => ({ type: 'profileRemove' as const, id })),
  fc
    .record({
      id: fc.constantFrom(...SETS),
      m: fc.subarray(['10.1.0.1/32', '10.2.0.0/16', '10.2.3.0/24', 'fd00:1::1/128']),
    })
    .map(({ id, m }) => ({
      type: 'ipSetUpdate' as const,
      id,
      setType: 'net' as const,
      members: m,
    })),
);

type Obj = Record<string, unknown>;

/** `nft -j list table` as name → object, without handles and counter values. */
async function kernelTable(lab: NetnsLab, ns: string) {
  const r = await lab.exec(ns, ['nft', '-j', 'list', 'table', 'inet', 'calico']);
  const doc = JSON.parse(
    r.stdout.replace(/"counter": \{"packets": \d+, "bytes": \d+\}/g, '"counter": {}'),
  ) as {
    nftables: Obj[];
  };
  const out = new Map<string, unknown>();
  for (const item of doc.nftables) {
    const [kind, body] = Object.entries(item)[0] as [string, Obj];
    if (kind === 'metainfo' || kind === 'table') continue;
    const { handle: _h, elem, ...rest } = body;
    if (kind === 'rule') {
      const key = `chain ${String(body.chain)}`;
      const rules = (out.get(`${key} rules`) as unknown[] | undefined) ?? [];
      const { handle: _rh, ...rule } = body;
      rules.push(rule);
      out.set(`${key} rules`, rules);
      continue;
    }
    const elems = Array.isArray(elem) ? elem.map((e) => JSON.stringify(e)).sort() : [];
    out.set(`${kind} ${String(body.name)}`, { ...rest, elem: elems });
  }
  return Object.fromEntries([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

test('incremental transactions leave the kernel as a full program would', async (t) => {
  const lab = new NetnsLab('ctdk');
  t.after(() => lab.cleanup());
  const ns = await lab.addNamespace('k');
  let deltas = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(opArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 10 }),
      async (batches) => {
        const applied: DesiredStateUpdate[] = updatesFor({
          ipSets: [{ id: 's0', members: ['10.9.0.0/16'] }],
        });
        const dp = new Dataplane({ netns: ns, manageRoutes: false, manageInterfaces: false });
        try {
          for (const u of applied) dp.apply(u);
          await dp.flush();
          for (const batch of batches) {
            for (const u of batch) {
              dp.apply(u);
              applied.push(u);
            }
            const m = await dp.flush();
            if (m.nft?.kind === 'delta') deltas++;
          }
        } finally {
          await dp.stop();
        }
        const incremental = await kernelTable(lab, ns);
        // the same final state, programmed in one transaction by a fresh process's path
        const full = new Dataplane({
          netns: ns,
          manageRoutes: false,
          manageInterfaces: false,
          helpers: false,
        });
        for (const u of applied) full.apply(u);
        const m = await full.flush();
        await full.stop();
        assert.equal(m.nft?.kind, 'full');
        assert.deepEqual(incremental, await kernelTable(lab, ns));
      },
    ),
    { numRuns: 8, seed: Number(process.env.FC_SEED ?? Date.now()) },
  );
  assert.ok(deltas > 8, `only ${deltas} incremental transactions`);
});

test('the long-lived helpers follow a namespace deleted and created again under its name', async (t) => {
  const lab = new NetnsLab('ctdk');
  t.after(() => lab.cleanup());
  const ns = await lab.addNamespace('r');
  const dp = new Dataplane({ netns: ns, manageRoutes: false, manageInterfaces: false });
  t.after(() => dp.stop());
  for (const u of updatesFor({ ipSets: [{ id: 's0', members: ['10.9.0.0/16'] }] })) dp.apply(u);
  await dp.flush();
  // one delta so that `nft -i` and the shell are running in the first namespace
  dp.apply({ type: 'ipSetUpdate', id: 's0', setType: 'net', members: ['10.8.0.0/16'] });
  assert.equal((await dp.flush()).nft?.kind, 'delta');
  await run(['ip', 'netns', 'del', ns]);
  await run(['ip', 'netns', 'add', ns]);
  dp.apply({ type: 'ipSetUpdate', id: 's0', setType: 'net', members: ['10.7.0.0/16'] });
  // the delta fails in the new, empty namespace and the table is rewritten there
  const m = await dp.flush();
  assert.equal(m.nft?.kind, 'full');
  const r = await lab.exec(ns, ['nft', 'list', 'set', 'inet', 'calico', ipSetName('s0', 4)]);
  assert.match(r.stdout, /10\.7\.0\.0\/16/);
});
