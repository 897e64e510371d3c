import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compareRevisions, isRevision, prefixEnd, resourceKey, resourcePrefix } from './index.js';

test('revisions compare as int64 decimals, beyond 2^53', () => {
  assert.equal(compareRevisions('9', '10'), -1);
  assert.equal(compareRevisions('9007199254740993', '9007199254740992'), 1);
  assert.equal(compareRevisions('42', '42'), 0);
  assert.ok(isRevision('0'));
  assert.ok(isRevision('9223372036854775807'));
  for (const bad of ['9223372036854775808', '-1', '01', '1.5', '', ' 1', 1])
    assert.ok(!isRevision(bad));
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
      fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
      (a, b) => {
        assert.equal(compareRevisions(String(a), String(b)), a < b ? -1 : a > b ? 1 : 0);
      },
    ),
  );
});

test('prefixEnd bounds exactly the keys under a prefix', () => {
  assert.equal(prefixEnd('/calico/'), '/calico0');
  fc.assert(
    fc.property(fc.string({ minLength: 1 }), fc.string(), fc.string(), (prefix, rest, other) => {
      const end = prefixEnd(prefix);
      const inside = prefix + rest;
      assert.ok(inside >= prefix && inside < end);
      if (!other.startsWith(prefix)) assert.ok(other < prefix || other >= end);
    }),
  );
});

test('resource keys follow the Calico layout and refuse path injection', () => {
  assert.equal(
    resourceKey('profiles', 'projectcalico-default-allow'),
    '/calico/resources/v3/projectcalico.org/profiles/projectcalico-default-allow',
  );
  assert.equal(
    resourceKey('networkpolicies', 'p', 'ns1'),
    '/calico/resources/v3/projectcalico.org/networkpolicies/ns1/p',
  );
  assert.equal(
    resourcePrefix('networkpolicies'),
    '/calico/resources/v3/projectcalico.org/networkpolicies/',
  );
  assert.throws(() => resourceKey('ippools', 'a/b'), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => resourceKey('ippools', ''), { code: 'INVALID_ARGUMENT' });
});
