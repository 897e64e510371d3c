// The plain reader is a shortcut: wherever it answers, parseManifests must give exactly
// what the YAML library gives (values, lines, document and item indexes, errors).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseManifests, parseManifestsWithLibrary } from './codec.js';
import { readPlainYaml } from './plain-yaml.js';

type Outcome = { ok: unknown } | { error: string };

function outcome(read: () => unknown): Outcome {
  try {
    return { ok: read() };
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

/** Same outcome both ways; returns whether the plain reader took the text. */
function agree(text: string): boolean {
  const plain = readPlainYaml(text) !== undefined;
  const fast = outcome(() => parseManifests(text, { source: 'f.yaml' }));
  const library = outcome(() => parseManifestsWithLibrary(text, { source: 'f.yaml' }));
  assert.deepStrictEqual(fast, library, `plain reader ${plain ? 'took' : 'left'}:\n${text}`);
  return plain;
}

// Scalars chosen to sit on the edges of YAML 1.1 typing and of the plain subset.
const SCALARS = [
  'prod',
  "app == 'db'",
  "has(a) && b in {'x', 'y'}",
  'all()',
  '!has(x)',
  'Allow',
  'TCP',
  'yes',
  'No',
  'ON',
  'off',
  'y',
  'N',
  'true',
  'False',
  '~',
  'null',
  'NULL',
  '',
  'e5',
  'E+3',
  '0',
  '7',
  '42',
  '0755',
  '0x1F',
  '0b101',
  '1_000',
  '-1',
  '+5',
  '1.5',
  '.5',
  '1e5',
  '.inf',
  '.NaN',
  '10.0.0.0/8',
  'fd00::/64',
  '10.1.2.3',
  '2001:db8::1',
  '80:90',
  '2024-01-02',
  '12:30:00',
  'a: b',
  'a:b',
  'x #y',
  'x#y',
  '#x',
  '- x',
  '-x',
  '[a]',
  '{a: b}',
  'a, b',
  '&a',
  '*a',
  '!t',
  '|',
  '>',
  '%x',
  '@x',
  '`x',
  "it's",
  'say "hi"',
  'back\\slash',
  'tab\there',
  'trail ',
  ' lead',
  'http://x/y',
  'a/b',
  'k8s.io/name',
  '<<',
  '__proto__',
  'constructor',
  '9999999999999999',
  '123456789012345',
  'µs',
];
const KEYS = [
  'apiVersion',
  'kind',
  'metadata',
  'name',
  'namespace',
  'labels',
  'spec',
  'items',
  'selector',
  'ingress',
  'egress',
  'action',
  'ports',
  'nets',
  'cidr',
  'order',
  'yes',
  'on',
  'null',
  '1',
  'a b',
  'k8s.io/name',
  'a:b',
  '__proto__',
  'constructor',
  '-k',
  'x',
  'x',
];

type Value = string | number | boolean | null | Value[] | { [k: string]: Value };

// Mostly what manifests hold, so most streams are plain; now and then an edge case, which
// sends its whole stream to the library (and must not change the result).
const ordinary = fc.oneof(
  fc.constantFrom('prod', "app == 'db'", 'all()', 'Allow', 'TCP', 'v1', '10.0.0.0/8', 'fd00::/64'),
  fc.constantFrom('yes', 'No', 'true', 'off', 'null', '~', '0', '42', 'k8s.io/name', "it's"),
  fc.integer({ min: 0, max: 100_000 }),
  fc.boolean(),
  fc.constant(null),
);
const edgy = fc.oneof(
  fc.constantFrom(...SCALARS),
  fc.integer({ min: -5, max: 100_000 }),
  fc.string({
    maxLength: 6,
    unit: fc.constantFrom('a', 'Z', '0', '.', '/', ':', ' ', '-', "'", '#'),
  }),
);
const scalar = fc.oneof({ arbitrary: ordinary, weight: 30 }, { arbitrary: edgy, weight: 1 });
const key = fc.oneof(
  {
    arbitrary: fc.constantFrom('metadata', 'name', 'spec', 'selector', 'ports', 'x', 'items'),
    weight: 30,
  },
  { arbitrary: fc.constantFrom(...KEYS), weight: 1 },
);
const value: fc.Arbitrary<Value> = fc.letrec<{ v: Value }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('v'), { maxLength: 3 }),
    fc.array(fc.tuple(key, tie('v')), { maxLength: 4 }).map((entries) => {
      const o: { [k: string]: Value } = {};
      for (const [k, v] of entries)
        Object.defineProperty(o, k, {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return o;
    }),
  ),
})).v;

/** Renders a value as YAML text, choosing a style per node from `pick`. */
function render(v: Value, indent: number, pick: () => number): string[] {
  const pad = ' '.repeat(indent);
  // `emptyNull`: only a mapping value may be left empty for null
  const text = (s: Value, emptyNull = false): string => {
    if (s === null) return ['~', 'null', ''][pick() % (emptyNull ? 3 : 2)] as string;
    if (typeof s === 'boolean') return String(s);
    if (typeof s === 'number') return String(s);
    if (typeof s !== 'string') return flow(s);
    switch (pick() % 4) {
      case 0:
        return `'${s.replaceAll("'", "''")}'`;
      case 1:
        return JSON.stringify(s);
      default:
        return s;
    }
  };
  const flow = (c: Value): string => {
    if (Array.isArray(c)) return `[${c.map((x) => text(x)).join(', ')}]`;
    if (c !== null && typeof c === 'object')
      return `{${Object.keys(c)
        .map((k) => `${k}: ${text(c[k] as Value)}`)
        .join(', ')}}`;
    return text(c);
  };
  const comment = () => (pick() % 5 === 0 ? '  # note' : '');
  if (Array.isArray(v)) {
    if (v.length === 0) return [`${pad}[]`];
    return v.flatMap((item) => {
      if (
        item !== null &&
        typeof item === 'object' &&
        !Array.isArray(item) &&
        Object.keys(item).length > 0
      ) {
        const [first, ...rest] = render(item, indent + 2, pick);
        return [`${pad}- ${(first as string).trimStart()}`, ...rest];
      }
      if (Array.isArray(item) && item.length > 0 && pick() % 3 !== 0)
        return [`${pad}-`, ...render(item, indent + 2, pick)];
      return [`${pad}- ${text(item)}${comment()}`];
    });
  }
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 0) return [`${pad}{}`];
    return keys.flatMap((k) => {
      const child = v[k] as Value;
      const key = pick() % 7 === 0 ? `'${k}'` : k;
      const empty = Array.isArray(child)
        ? child.length === 0
        : Object.keys(child ?? 0).length === 0;
      if (child === null || typeof child !== 'object' || empty || pick() % 4 === 0)
        return [`${pad}${key}: ${text(child, true)}${comment()}`];
      const nested = Array.isArray(child) && pick() % 2 === 0 ? indent : indent + 2;
      return [`${pad}${key}:${comment()}`, ...render(child, nested, pick)];
    });
  }
  return [`${pad}${text(v)}`];
}

function stream(docs: Value[], seed: number): string {
  let state = seed >>> 0;
  const pick = () => {
    state = (state * 1103515245 + 12345) >>> 0;
    return state >>> 16;
  };
  const parts = docs.map((d) => render(d, 0, pick).join('\n'));
  const lead = ['', '# header\n', '---\n', '# c\n---\n'][pick() % 4];
  return `${lead}${parts.join(pick() % 2 ? '\n---\n' : '\n\n---\n# next\n')}${pick() % 2 ? '\n' : ''}`;
}

const EDITS = [
  ' ',
  ':',
  '-',
  '#',
  "'",
  '"',
  '\n',
  '[',
  ']',
  '{',
  '}',
  ',',
  'a',
  '1',
  '\t',
  '&',
  '*',
  '!',
  '|',
  '>',
  '  ',
  '---\n',
  '\r',
  '\u00a0',
  '\ufeff',
  '\u2028',
  '\u0085',
];

function mutate(text: string, edits: [number, number, number][]): string {
  let out = text;
  for (const [where, what, how] of edits) {
    const at = out.length === 0 ? 0 : where % out.length;
    if (how % 3 === 0) out = out.slice(0, at) + out.slice(at + 1);
    else out = out.slice(0, at) + EDITS[what % EDITS.length] + out.slice(at);
  }
  return out;
}

const resource = fc.record(
  {
    apiVersion: fc.constant('projectcalico.org/v3'),
    kind: fc.constantFrom('NetworkPolicy', 'GlobalNetworkPolicy', 'IPPool', 'IPPoolList', 'List'),
    metadata: fc.record({ name: fc.constantFrom('a', 'db-from-web', 'yes'), labels: value }),
    spec: value,
    items: fc.array(value, { maxLength: 3 }),
  },
  { requiredKeys: ['apiVersion', 'kind', 'metadata', 'spec'] },
);

describe('the plain YAML reader', () => {
  test('gives what the YAML library gives, wherever it answers (generated streams)', () => {
    let took = 0;
    let runs = 0;
    fc.assert(
      fc.property(
        fc.array(fc.oneof({ arbitrary: resource, weight: 6 }, { arbitrary: value, weight: 1 }), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.nat(),
        (docs, seed) => {
          runs++;
          if (agree(stream(docs as Value[], seed))) took++;
        },
      ),
      { numRuns: 3000 },
    );
    // the test means something only if the reader takes a good share of these
    assert.ok(took > runs / 2, `plain reader took ${took} of ${runs}`);
  });

  test('gives what the YAML library gives on mutated manifests', () => {
    const seeds = ['examples/demo', 'examples/lab'].flatMap((dir) => {
      const abs = join(new URL('../..', import.meta.url).pathname, dir);
      return readdirSync(abs).map((f) => readFileSync(join(abs, f), 'utf8'));
    });
    let took = 0;
    let runs = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { minLength: 1, maxLength: 3 }),
        (text, edits) => {
          runs++;
          if (agree(mutate(text, edits))) took++;
        },
      ),
      { numRuns: 3000 },
    );
    assert.ok(took > runs / 4, `plain reader took ${took} of ${runs}`);
  });

  test('takes the manifests in examples/, and what it cannot be sure of goes to the library', () => {
    for (const dir of ['examples/demo', 'examples/lab']) {
      const abs = join(new URL('../..', import.meta.url).pathname, dir);
      for (const f of readdirSync(abs)) {
        const text = readFileSync(join(abs, f), 'utf8');
        assert.ok(agree(text), `${dir}/${f} is plain YAML`);
      }
    }
    for (const text of [
      'a: &x 1\nb: *x\n',
      'a: |\n  text\n',
      'a: !!str 5\n',
      'a: "esc\\n"\n',
      'a: long\n  continued\n',
      'a: 1\na: 2\n',
      'a: 0755\n',
      'a: 1.5\n',
      'a: 10.0.0.1\n',
      'on: 1\n',
      '- a\n',
      'a: 1\r\n',
      'a: x\u00a0\nb: y\n',
      'a: x\n\u00a0b: y\n',
      'a: [x\u00a0, y]\n',
      "a: 'x' \ufeff\n",
      'a: x\u2028y\n',
      'a: x\u0085\n',
      'a: caf\u00e9\n',
      'a: [1, 2,]\n',
      'a: 1\n---\n---\nb: 1\n',
      '{"a": 1}\n',
    ]) {
      assert.equal(readPlainYaml(text), undefined, JSON.stringify(text));
      agree(text);
    }
  });

  test('lines and indexes of documents and List items', () => {
    const text =
      '# c\n---\napiVersion: v1\nkind: List\nitems:\n- kind: A\n  x: 1\n\n-   kind: B\n---\nkind: C\n';
    const docs = parseManifests(text);
    assert.deepEqual(
      docs.map((d) => [d.documentIndex, d.itemIndex, d.line, d.value.kind]),
      [
        [0, 0, 6, 'A'],
        [0, 1, 9, 'B'],
        [1, undefined, 11, 'C'],
      ],
    );
    assert.ok(agree(text));
  });
});
