import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { PathAttributes } from './codec.js';
import {
  CHANGED_BEST,
  CHANGED_HOPS,
  CHANGED_PATHS,
  comparePaths,
  LocRib,
  type Path,
  type PathSource,
} from './rib.js';

function src(address: string, opts: Partial<PathSource> = {}): PathSource {
  return {
    address,
    routerId: address,
    ebgp: false,
    local: false,
    rrClient: false,
    peerAs: 65000,
    ...opts,
  };
}

function path(s: PathSource, attrs: PathAttributes, nextHop = s.address): Path {
  return { source: s, attrs: { origin: 0, asPath: [], ...attrs }, nextHop, stale: false };
}

test('best path: LOCAL_PREF, AS path length, origin, MED, eBGP, router id', () => {
  const a = src('10.0.0.1');
  const b = src('10.0.0.2');
  const seq = (...asns: number[]) => [{ type: 2, asns }];
  const better = (x: Path, y: Path) => assert.ok(comparePaths(x, y) < 0 && comparePaths(y, x) > 0);
  better(path(a, { localPref: 200 }), path(b, { localPref: 100 }));
  better(path(b, { asPath: seq(1) }), path(a, { asPath: seq(1, 2) }));
  // AS_SET counts as one
  better(path(b, { asPath: [{ type: 1, asns: [1, 2, 3] }] }), path(a, { asPath: seq(1, 2) }));
  better(path(b, { origin: 0 }), path(a, { origin: 1 }));
  better(path(b, { asPath: seq(7), med: 5 }), path(a, { asPath: seq(7), med: 10 }));
  better(path(src('10.0.0.9', { ebgp: true, peerAs: 7 }), {}), path(a, {}));
  better(path(a, {}), path(b, {}));
  // ORIGINATOR_ID stands in for the router id
  better(path(b, { originatorId: '1.1.1.1' }), path(a, {}));
  better(path(src('', { local: true, routerId: '9.9.9.9' }), {}), path(a, {}));
});

test('MED is compared only between paths from the same neighbouring AS', () => {
  const a = src('10.0.0.1');
  const b = src('10.0.0.2');
  const pa = path(a, { asPath: [{ type: 2, asns: [7] }], med: 100 });
  const pb = path(b, { asPath: [{ type: 2, asns: [8] }], med: 1 });
  assert.ok(comparePaths(pa, pb) < 0, 'router id decides, not MED');
});

test('multipath: equal paths give a sorted ECMP set; changes are flagged', () => {
  const rib = new LocRib(true);
  const a = src('10.0.0.2');
  const b = src('10.0.0.1');
  assert.equal(rib.set('10.9.0.0/24', a, path(a, {})), CHANGED_BEST | CHANGED_HOPS | CHANGED_PATHS);
  assert.deepEqual(rib.get('10.9.0.0/24')!.nextHops, ['10.0.0.2']);
  assert.equal(rib.set('10.9.0.0/24', b, path(b, {})) & CHANGED_HOPS, CHANGED_HOPS);
  assert.deepEqual(rib.get('10.9.0.0/24')!.nextHops, ['10.0.0.1', '10.0.0.2']);
  // a worse path joins the candidates (ADD-PATH peers hear of it) but not the ECMP set
  const c = src('10.0.0.3');
  assert.equal(
    rib.set('10.9.0.0/24', c, path(c, { asPath: [{ type: 2, asns: [1] }] })),
    CHANGED_PATHS,
  );
  assert.deepEqual(rib.get('10.9.0.0/24')!.nextHops, ['10.0.0.1', '10.0.0.2']);
  rib.set('10.9.0.0/24', b, undefined);
  assert.deepEqual(rib.get('10.9.0.0/24')!.nextHops, ['10.0.0.2']);
  rib.set('10.9.0.0/24', a, undefined);
  assert.equal(rib.set('10.9.0.0/24', c, undefined), CHANGED_BEST | CHANGED_HOPS | CHANGED_PATHS);
  assert.equal(rib.get('10.9.0.0/24'), undefined);
});

test('multipath off: one next hop', () => {
  const rib = new LocRib(false);
  const a = src('10.0.0.2');
  const b = src('10.0.0.1');
  rib.set('p', a, path(a, {}));
  rib.set('p', b, path(b, {}));
  assert.deepEqual(rib.get('p')!.nextHops, ['10.0.0.1']);
});

test('local best path has no kernel next hops', () => {
  const rib = new LocRib();
  const l = src('', { local: true, routerId: '10.0.0.5' });
  assert.equal(rib.set('10.1.0.0/26', l, path(l, {}, '')), CHANGED_BEST | CHANGED_PATHS);
  assert.deepEqual(rib.get('10.1.0.0/26')!.nextHops, []);
});

test('property: selection is independent of arrival order', () => {
  const arb = fc.array(
    fc.record({
      lp: fc.integer({ min: 90, max: 110 }),
      len: fc.integer({ min: 0, max: 3 }),
      origin: fc.integer({ min: 0, max: 2 }),
      med: fc.integer({ min: 0, max: 3 }),
      ebgp: fc.boolean(),
    }),
    { minLength: 1, maxLength: 8 },
  );
  fc.assert(
    fc.property(arb, fc.integer(), (specs, seed) => {
      const paths = specs.map((s, i) =>
        path(src(`10.0.0.${i + 1}`, { ebgp: s.ebgp, peerAs: s.ebgp ? 7 : 65000 }), {
          localPref: s.lp,
          asPath: [{ type: 2, asns: new Array(s.len).fill(7) }],
          origin: s.origin,
          med: s.med,
        }),
      );
      const r1 = new LocRib();
      for (const p of paths) r1.set('x', p.source, p);
      const shuffled = [...paths].sort(
        (x, y) =>
          ((x.nextHop.length * seed) % 7) - ((y.nextHop.length * seed) % 7) || (seed & 1 ? 1 : -1),
      );
      const r2 = new LocRib();
      for (const p of shuffled.reverse()) r2.set('x', p.source, p);
      assert.equal(r1.get('x')!.best, r2.get('x')!.best);
      assert.deepEqual(r1.get('x')!.nextHops, r2.get('x')!.nextHops);
    }),
  );
});
