// The contributor table against a Map model: random adds, in-place edits and deletes,
// enough of them to grow the columns past their first capacity and to reuse freed
// ids; every live id keeps exactly what was last written to it, and ids are unique.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ContributorTable, ENDPOINT, NETWORK_SET, NONE } from './contributors.js';

type Row = {
  kind: number;
  ns: string | undefined;
  cls: { c: number };
  v4: number;
  nets: readonly string[];
  local: string | undefined;
  slot: number;
  nextWep: number;
};

const arbRow = fc.record({
  kind: fc.constantFrom(ENDPOINT, NETWORK_SET),
  ns: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
  cls: fc.nat(3).map((c) => ({ c })),
  v4: fc.constantFrom(-1, 0, 0x0a000001, 0xffffffff),
  nets: fc.constantFrom([], ['10.0.0.1/32'], ['fd00::1/128', '10.0.0.2/32']),
  local: fc.option(fc.constantFrom('x', 'y'), { nil: undefined }),
  slot: fc.nat(1000),
  nextWep: fc.integer({ min: -1, max: 5000 }),
});

type Op =
  | { op: 'add'; row: Row; times: number }
  | { op: 'edit'; pick: number; row: Row }
  | { op: 'delete'; pick: number; times: number };

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('add' as const),
    row: arbRow,
    times: fc.integer({ min: 1, max: 700 }),
  }),
  fc.record({ op: fc.constant('edit' as const), pick: fc.nat(), row: arbRow }),
  fc.record({
    op: fc.constant('delete' as const),
    pick: fc.nat(),
    times: fc.integer({ min: 1, max: 700 }),
  }),
);

function read(t: ContributorTable<{ c: number }, string>, id: number): Row {
  return {
    kind: t.kind[id]!,
    ns: t.ns[id],
    cls: t.cls[id]!,
    v4: t.v4[id]!,
    nets: t.nets[id]!,
    local: t.local.get(id),
    slot: t.slot[id]!,
    nextWep: t.nextWep[id]!,
  };
}

function write(t: ContributorTable<{ c: number }, string>, id: number, r: Row): void {
  t.kind[id] = r.kind;
  t.ns[id] = r.ns;
  t.cls[id] = r.cls;
  t.v4[id] = r.v4;
  t.nets[id] = r.nets;
  if (r.local === undefined) t.local.delete(id);
  else t.local.set(id, r.local);
  t.slot[id] = r.slot;
  t.nextWep[id] = r.nextWep;
}

test('contributor table: live ids keep what was written, freed ids are reused', () => {
  fc.assert(
    fc.property(fc.array(arbOp, { maxLength: 30 }), (ops) => {
      const t = new ContributorTable<{ c: number }, string>();
      const model = new Map<number, Row>();
      let maxId = -1;
      for (const o of ops) {
        if (o.op === 'add') {
          for (let i = 0; i < o.times; i++) {
            const free = t.cls.length - model.size;
            const id: number = t.add(o.row.kind, o.row.ns, o.row.cls, o.row.v4, o.row.nets);
            assert.ok(!model.has(id), `id ${id} handed out twice`);
            if (free === 0) assert.equal(id, maxId + 1, 'a new id only when none is free');
            else assert.ok(id <= maxId, 'a freed id is reused before a new one');
            maxId = Math.max(maxId, id);
            // A new row starts with no local state, slot 0 and no next endpoint.
            model.set(id, { ...o.row, local: undefined, slot: 0, nextWep: NONE });
          }
        } else if (o.op === 'edit') {
          if (model.size === 0) continue;
          const id: number = [...model.keys()][o.pick % model.size]!;
          write(t, id, o.row);
          model.set(id, { ...o.row });
        } else {
          for (let i = 0; i < o.times && model.size > 0; i++) {
            const id: number = [...model.keys()][(o.pick + i) % model.size]!;
            t.delete(id);
            model.delete(id);
            assert.equal(t.has(id), false);
            assert.throws(() => t.delete(id), RangeError);
          }
        }
        assert.equal(t.size, model.size);
        for (const [id, row] of model) {
          assert.ok(t.has(id));
          assert.deepEqual(read(t, id), row, `row ${id}`);
        }
      }
    }),
    { numRuns: 60 },
  );
});
