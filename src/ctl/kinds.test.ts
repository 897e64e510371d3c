import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CtlError } from './errors.js';
import { resolveKind } from './kinds.js';

test('kind arguments: kind, plural and short names, any case', () => {
  for (const arg of ['IPPool', 'ippool', 'IPPOOLS', 'ipp', 'Ipps', 'pool', 'pools']) {
    assert.equal(resolveKind(arg).kind, 'IPPool', arg);
  }
  for (const arg of ['gnp', 'GlobalNetworkPolicies', 'globalpolicy']) {
    assert.equal(resolveKind(arg).kind, 'GlobalNetworkPolicy', arg);
  }
  for (const arg of ['networkpolicy', 'NetworkPolicies', 'np', 'cnp', 'policy']) {
    assert.equal(resolveKind(arg).kind, 'NetworkPolicy', arg);
  }
  assert.equal(resolveKind('hep').kind, 'HostEndpoint');
  assert.equal(resolveKind('wep').kind, 'WorkloadEndpoint');
  assert.equal(resolveKind('WEP').namespaced, true);
  assert.equal(resolveKind('profiles').kind, 'Profile');
});

test('unknown kinds are a CtlError that lists the supported ones', () => {
  assert.throws(
    () => resolveKind('frobs'),
    (e: unknown) => e instanceof CtlError && /"frobs" is not supported.*ippool/.test(e.message),
  );
});
