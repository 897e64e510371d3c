import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  ManifestParseError,
  parseManifests,
  toJson,
  toList,
  toYaml,
  validateResource,
} from './index.js';

const POOL = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-a
spec:
  cidr: 10.1.0.0/16
  natOutgoing: yes
  disabled: off
`;

describe('parseManifests', () => {
  test('multi-document YAML with comments, empty documents and positions', () => {
    const text = `# leading comment
${POOL}---
---
# only a comment
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: t}
`;
    const docs = parseManifests(text, { source: 'pools.yaml' });
    assert.equal(docs.length, 2);
    assert.deepEqual(
      docs.map((d) => [d.index, d.documentIndex, d.line, d.source]),
      [
        [0, 0, 2, 'pools.yaml'],
        [1, 3, 14, 'pools.yaml'],
      ],
    );
  });

  test('YAML 1.1 booleans as kubectl reads them; no sexagesimal, no timestamps', () => {
    const [d] = parseManifests(POOL);
    const spec = d!.value.spec as Record<string, unknown>;
    assert.equal(spec.natOutgoing, true);
    assert.equal(spec.disabled, false);
    const [e] = parseManifests(
      'a: on\nb: NO\nc: y\nd: 80:59\ne: 2024-01-02\nf: 0755\ng: 1_000\nh: "yes"\n',
    );
    assert.deepEqual(e!.value, {
      a: true,
      b: false,
      c: true,
      d: '80:59',
      e: '2024-01-02',
      f: 493,
      g: 1000,
      h: 'yes',
    });
  });

  test('a byte-order mark is ignored in YAML and JSON', () => {
    assert.equal(parseManifests('\uFEFF{"kind": "Tier"}')[0]!.value.kind, 'Tier');
    assert.equal(parseManifests('\uFEFFkind: Tier\n')[0]!.value.kind, 'Tier');
  });

  test('JSON documents and top-level arrays', () => {
    const docs = parseManifests(
      '{"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": "a"}, "spec": {"order": 1}}',
    );
    assert.equal(docs.length, 1);
    assert.deepEqual(docs[0]!.value.spec, { order: 1 });
    const arr = parseManifests('[{"kind": "Tier"},\n {"kind": "Profile"}]');
    assert.deepEqual(
      arr.map((d) => [d.value.kind, d.itemIndex, d.line]),
      [
        ['Tier', 0, 1],
        ['Profile', 1, 2],
      ],
    );
  });

  test('List and <Kind>List documents are flattened; typed lists fill missing kind and apiVersion', () => {
    const docs = parseManifests(`apiVersion: v1
kind: List
items:
  - apiVersion: projectcalico.org/v3
    kind: Tier
    metadata: {name: a}
  - apiVersion: projectcalico.org/v3
    kind: Profile
    metadata: {name: b}
---
apiVersion: projectcalico.org/v3
kind: IPPoolList
metadata: {resourceVersion: "7"}
items:
  - metadata: {name: c}
    spec: {cidr: 10.0.0.0/16}
`);
    assert.deepEqual(
      docs.map((d) => [d.value.kind, d.value.apiVersion, d.documentIndex, d.itemIndex, d.line]),
      [
        ['Tier', 'projectcalico.org/v3', 0, 0, 4],
        ['Profile', 'projectcalico.org/v3', 0, 1, 7],
        ['IPPool', 'projectcalico.org/v3', 1, 0, 15],
      ],
    );
    assert.ok(validateResource(docs[2]!.value).ok);
    assert.deepEqual(parseManifests('kind: List\napiVersion: v1\nitems: []\n'), []);
  });

  test('syntax errors carry source, document index, line and column', () => {
    const text = `${POOL}---\nkind: Tier\nmetadata: {name: [x}\n`;
    assert.throws(
      () => parseManifests(text, { source: 'bad.yaml' }),
      (err: unknown) => {
        assert.ok(err instanceof ManifestParseError);
        assert.ok(err instanceof SyntaxError);
        assert.equal(err.code, 'YAML_SYNTAX');
        assert.equal(err.source, 'bad.yaml');
        assert.equal(err.documentIndex, 1);
        assert.equal(err.line, 11);
        assert.ok(err.column >= 1);
        assert.match(err.message, /^bad\.yaml:11:\d+: document 1: /);
        return true;
      },
    );
    assert.throws(
      () => parseManifests('{"a": 1,\n  "b": }', { source: 'x.json' }),
      (err: unknown) =>
        err instanceof ManifestParseError &&
        err.code === 'JSON_SYNTAX' &&
        err.line === 2 &&
        err.column === 8,
    );
    assert.throws(
      () => parseManifests('a: 1\na: 2\n'),
      (err: unknown) => err instanceof ManifestParseError && err.line === 2,
      'duplicate keys are an error, as in strict kubectl',
    );
  });

  test('non-object documents and malformed Lists are typed errors', () => {
    assert.throws(
      () => parseManifests('just a string\n'),
      (e: unknown) => e instanceof ManifestParseError && e.code === 'NOT_AN_OBJECT',
    );
    assert.throws(
      () => parseManifests('a: 1\n---\n- 1\n- 2\n'),
      (e: unknown) =>
        e instanceof ManifestParseError &&
        e.code === 'NOT_AN_OBJECT' &&
        e.documentIndex === 1 &&
        e.line === 3,
    );
    assert.throws(
      () => parseManifests('kind: List\nitems: {a: 1}\n'),
      (e: unknown) => e instanceof ManifestParseError && e.code === 'BAD_LIST' && e.line === 2,
    );
  });

  test('alias bombs are refused, not expanded', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]',
    ].join('\n');
    assert.throws(() => parseManifests(bomb), ManifestParseError);
  });

  test('__proto__ keys stay plain data', () => {
    const [d] = parseManifests('metadata:\n  labels:\n    __proto__: x\n');
    const labels = (d!.value.metadata as { labels: Record<string, unknown> }).labels;
    assert.equal(Object.getPrototypeOf(labels), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(labels, '__proto__')?.value, 'x');
  });
});

describe('writing and round trips', () => {
  const resources = () => {
    const r = validateResource(parseManifests(POOL)[0]!.value);
    assert.ok(r.ok);
    return [
      {
        ...r.value,
        metadata: {
          ...r.value.metadata,
          annotations: { note: 'yes', 'Example.com/ver': '0755' },
          resourceVersion: '12',
          managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
        },
        status: { conditions: [{ type: 'Allocatable', status: 'True' }] },
      },
      {
        apiVersion: 'projectcalico.org/v3',
        kind: 'Tier',
        metadata: { name: 'on' },
        spec: { order: 1.5 },
      },
    ];
  };

  test('YAML round trip keeps every field, including YAML 1.1-ambiguous strings', () => {
    const items = resources();
    const text = toYaml(items);
    assert.match(text, /note: "yes"/);
    assert.deepEqual(
      parseManifests(text).map((d) => d.value),
      items,
    );
  });

  test('JSON round trip', () => {
    const items = resources();
    assert.deepEqual(
      parseManifests(toJson(items)).map((d) => d.value),
      items,
    );
    assert.deepEqual(
      parseManifests(toJson(items[0])).map((d) => d.value),
      [items[0]],
    );
  });

  test('toList produces <Kind>List with items, which parses back to the items', () => {
    const items = resources().slice(0, 1);
    const list = toList('IPPool', items);
    assert.equal(list.kind, 'IPPoolList');
    assert.equal(list.apiVersion, 'projectcalico.org/v3');
    assert.deepEqual(
      parseManifests(toYaml(list)).map((d) => d.value),
      items,
    );
  });

  test('property: any JSON-like resource round-trips through YAML and JSON', () => {
    const scalar = fc.oneof(
      fc.string(),
      fc.constantFrom(
        'yes',
        'no',
        'on',
        'off',
        'y',
        'n',
        '~',
        'null',
        '0755',
        '1_0',
        '80:59',
        '2001-01-01',
        '.inf',
        '',
      ),
      fc.boolean(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0)),
      fc.constant(null),
    );
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        scalar,
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(fc.string(), tie('v'), { maxKeys: 4, noNullPrototype: true }),
      ),
    })).v;
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1 }), value, { maxKeys: 5, noNullPrototype: true }),
        (spec) => {
          const doc = {
            apiVersion: 'projectcalico.org/v3',
            kind: 'X',
            metadata: { name: 'n' },
            spec,
          };
          assert.deepEqual(parseManifests(toYaml(doc))[0]!.value, doc);
          assert.deepEqual(parseManifests(toJson(doc))[0]!.value, doc);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('fuzz', () => {
  test('random text: a value or a ManifestParseError, never anything else', () => {
    const yamlish = fc.array(
      fc.constantFrom(
        'a',
        ':',
        ' ',
        '\n',
        '-',
        '---',
        '[',
        ']',
        '{',
        '}',
        ',',
        '"',
        "'",
        '&x',
        '*x',
        '!!',
        '#',
        '?',
        '|',
        '>',
        '\t',
        'kind: List',
        'items:',
        '<<: ',
        '%YAML 1.1',
        '\\',
        '0x',
        'yes',
      ),
      { maxLength: 60 },
    );
    const text = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 100 }),
      yamlish.map((a) => a.join('')),
    );
    fc.assert(
      fc.property(text, (t) => {
        try {
          const docs = parseManifests(t);
          for (const d of docs) assert.equal(typeof d.value, 'object');
        } catch (err) {
          if (!(err instanceof ManifestParseError)) throw err;
          assert.ok(err.line >= 1 && err.column >= 1 && err.documentIndex >= 0);
        }
      }),
      { numRuns: 600 },
    );
  });
});
