// The validator must answer, never throw, whatever it is given.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { KINDS, validateAnyResource, validateResource } from './index.js';

function checkResult(r: ReturnType<typeof validateAnyResource>): void {
  if (r.ok) return;
  assert.ok(r.errors.length > 0);
  for (const e of r.errors) {
    assert.equal(typeof e.path, 'string');
    assert.equal(typeof e.message, 'string');
    assert.match(e.rule, /^[a-z0-9-]+$/);
    assert.notEqual(e.rule, 'internal', e.message);
  }
}

test('arbitrary values never make the validator throw', () => {
  fc.assert(
    fc.property(fc.anything({ withNullPrototype: true, withObjectString: true }), (v) => {
      checkResult(validateAnyResource(v));
    }),
    { numRuns: 3000 },
  );
});

test('documents of every kind with arbitrary spec and metadata never throw', () => {
  const kinds = KINDS.map((k) => [k.apiVersion, k.kind] as const);
  const jsonish = fc.jsonValue();
  const specish = fc.dictionary(
    fc.constantFrom(
      'cidr',
      'selector',
      'ingress',
      'egress',
      'types',
      'order',
      'tier',
      'nets',
      'ports',
      'blockSize',
      'ipipMode',
      'node',
      'peerIP',
      'asNumber',
      'bgp',
      'communities',
      'prefixAdvertisements',
      'reservedCIDRs',
      'allocations',
      'unallocated',
      'attributes',
      'stagedAction',
      'podSelector',
      'ipNetworks',
      'interfaceName',
      'controllers',
      'exportV4',
      'maxBlocksPerHost',
      'preDNAT',
      'doNotTrack',
      'applyOnForward',
      'expectedIPs',
    ),
    jsonish,
    { maxKeys: 6 },
  );
  const ruleish = fc.record(
    {
      action: fc.constantFrom('Allow', 'Deny', 'Log', 'Pass', 'allow'),
      protocol: fc.oneof(fc.constantFrom('TCP', 'udp', 'ICMP', 'ICMPv6', 7, 300), fc.jsonValue()),
      ipVersion: fc.constantFrom(4, 6, 0),
      icmp: fc.record(
        { type: fc.integer({ min: -1, max: 300 }), code: fc.integer({ min: -1, max: 300 }) },
        { requiredKeys: [] },
      ),
      source: fc.record(
        {
          nets: fc.array(fc.constantFrom('10.0.0.0/8', 'fd00::/8', '0.0.0.0/0', 'bad', '::/0')),
          notNets: fc.array(fc.constantFrom('10.0.0.0/8', 'fd00::/8', '0.0.0.0/0', '::/0')),
          ports: fc.array(
            fc.oneof(
              fc.integer({ min: -1, max: 70000 }),
              fc.constantFrom('80:90', 'http', '9:1', 'a b'),
            ),
          ),
          selector: fc.constantFrom('all()', 'global()', 'a ==', "a == 'b'"),
          namespaceSelector: fc.constantFrom('global()', 'all()', ' global() '),
          services: fc.record({ name: fc.string(), namespace: fc.string() }, { requiredKeys: [] }),
        },
        { requiredKeys: [] },
      ),
      http: fc.record(
        {
          methods: fc.array(fc.constantFrom('GET', 'GET', 'PUT')),
          paths: fc.array(
            fc.record({ exact: fc.string(), prefix: fc.string() }, { requiredKeys: [] }),
          ),
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(
      fc.constantFrom(...kinds),
      fc.oneof(
        specish,
        fc.record({
          ingress: fc.array(ruleish, { maxLength: 3 }),
          egress: fc.array(ruleish, { maxLength: 3 }),
        }),
      ),
      fc.record(
        {
          name: fc.oneof(fc.constant('default'), fc.string()),
          namespace: fc.string(),
          labels: fc.jsonValue(),
        },
        { requiredKeys: ['name'] },
      ),
      ([apiVersion, kind], spec, metadata) => {
        checkResult(validateResource({ apiVersion, kind, metadata, spec }));
      },
    ),
    { numRuns: 1000 },
  );
});
