// renderChanges() (render only what changed, diff only the touched names) must give the
// same table as rendering everything from scratch, and the same nft delta as diffing
// the whole table, for any sequence of endpoint, policy, profile and IP set changes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  applyDesiredStateUpdate,
  type DesiredStateUpdate,
  emptyDesiredState,
} from '../calc/index.js';
import { policy, profile, rule, TCP, tier, updatesFor, workload } from './fixtures.js';
import { countTable, diffTables, type RenderedTable, Renderer, renderTable } from './index.js';
import { countTableDelta } from './model.js';
import type { DirtyKeys } from './render.js';

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
    .record({
      id: fc.constantFrom(...POLS),
      set: fc.constantFrom(...SETS, 'absent'),
      port: fc.nat(3),
    })
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
      m: fc.subarray(['10.1.0.1/32', '10.2.0.0/16', 'fd00:1::1/128']),
    })
    .map(({ id, m }) => ({
      type: 'ipSetUpdate' as const,
      id,
      setType: 'net' as const,
      members: m,
    })),
  fc.constantFrom(...SETS).map((id) => ({ type: 'ipSetRemove' as const, id })),
);

function normal(t: RenderedTable) {
  return {
    chains: [...t.chains].sort(([a], [b]) => (a < b ? -1 : 1)),
    sets: [...t.sets].sort(([a], [b]) => (a < b ? -1 : 1)),
    maps: [...t.maps]
      .map(([n, m]) => [n, m.type, [...m.elements].sort()] as const)
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  };
}

const lines = (s: string) => s.split('\n').filter(Boolean).sort();

test('renderChanges equals a full render and a full diff, change after change', () => {
  let total = 0;
  fc.assert(
    fc.property(
      fc.array(fc.array(opArb, { minLength: 1, maxLength: 3 }), { maxLength: 12 }),
      (batches) => {
        const state = emptyDesiredState();
        for (const u of updatesFor({ ipSets: [{ id: 's0', members: ['10.9.0.0/16'] }] }))
          applyDesiredStateUpdate(state, u);
        const r = new Renderer();
        let prev = r.render(state);
        let incremental = 0;
        for (const batch of batches) {
          const dirty = {
            endpoints: new Set<string>(),
            policies: new Set<string>(),
            profiles: new Set<string>(),
            sets: new Set<string>(),
          };
          for (const u of batch) {
            // the calc graph never sends a delta for a set it has not created
            if (u.type === 'ipSetRemove' && !state.ipSets.has(u.id)) continue;
            applyDesiredStateUpdate(state, u);
            if (u.type === 'workloadEndpointUpdate') dirty.endpoints.add(u.endpoint.id);
            else if (u.type === 'workloadEndpointRemove') dirty.endpoints.add(u.id);
            else if (u.type === 'policyUpdate') dirty.policies.add(u.policy.id);
            else if (u.type === 'policyRemove') dirty.policies.add(u.id);
            else if (u.type === 'profileUpdate') dirty.profiles.add(u.profile.id);
            else if (u.type === 'profileRemove') dirty.profiles.add(u.id);
            else if ('id' in u) dirty.sets.add(u.id);
          }
          const ch = r.renderChanges(state, dirty as DirtyKeys);
          const next = ch?.table ?? r.render(state, dirty.sets);
          assert.deepEqual(normal(next), normal(renderTable(state)));
          if (ch) {
            incremental++;
            assert.equal(ch.base, prev);
            assert.deepEqual(
              lines(diffTables(prev, next, ch.touched).script),
              lines(diffTables(prev, next).script),
            );
            assert.deepEqual(
              countTableDelta(prev, countTable(prev), next, ch.touched),
              countTable(next),
            );
          }
          prev = next;
        }
        total += incremental;
      },
    ),
    { numRuns: 300, seed: Number(process.env.FC_SEED ?? Date.now()) },
  );
  // the comparison is only worth something if the incremental path actually ran
  assert.ok(total > 300, `only ${total} incremental renders`);
});
