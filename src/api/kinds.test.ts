import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findKind, K8S_KINDS, KINDS, lookupKind } from './index.js';

test('plurals follow the datastore key layout (calico-dataplane.md §14)', () => {
  const plurals = new Set(KINDS.map((k) => k.plural));
  for (const p of [
    'globalnetworkpolicies',
    'networkpolicies',
    'stagedglobalnetworkpolicies',
    'stagednetworkpolicies',
    'stagedkubernetesnetworkpolicies',
    'tiers',
    'profiles',
    'hostendpoints',
    'workloadendpoints',
    'globalnetworksets',
    'networksets',
    'ippools',
    'ipreservations',
    'bgpconfigurations',
    'bgppeers',
    'bgpfilters',
    'felixconfigurations',
    'clusterinformations',
    'kubecontrollersconfigurations',
    'nodes',
    'caliconodestatuses',
  ])
    assert.ok(plurals.has(p), p);
  assert.equal(KINDS.length, 25);
});

test('lookupKind accepts kind, lower case, plural and short names, case-insensitively', () => {
  for (const alias of ['IPPool', 'ippool', 'ippools', 'ipp', 'ipps', 'pool', 'POOLS'])
    assert.equal(lookupKind(alias)?.kind, 'IPPool', alias);
  const cases: [string, string][] = [
    ['gnp', 'GlobalNetworkPolicy'],
    ['GlobalNetworkPolicies', 'GlobalNetworkPolicy'],
    ['hep', 'HostEndpoint'],
    ['gns', 'GlobalNetworkSet'],
    ['netset', 'NetworkSet'],
    ['cnp', 'NetworkPolicy'],
    ['policy', 'NetworkPolicy'],
    ['wep', 'WorkloadEndpoint'],
    ['bgpconfig', 'BGPConfiguration'],
    ['bgppeers', 'BGPPeer'],
    ['felixconfig', 'FelixConfiguration'],
    ['tier', 'Tier'],
    ['ipamblocks', 'IPAMBlock'],
    ['blockaffinities', 'BlockAffinity'],
    ['caliconodestatuses', 'CalicoNodeStatus'],
    ['sknp', 'StagedKubernetesNetworkPolicy'],
  ];
  for (const [alias, kind] of cases) assert.equal(lookupKind(alias)?.kind, kind, alias);
  assert.equal(lookupKind('nope'), undefined);
  assert.equal(lookupKind('namespace'), undefined, 'Kubernetes kinds are not calicoctl kinds');
});

test('namespaced flags and exact kind lookup', () => {
  const namespaced = KINDS.filter((k) => k.namespaced)
    .map((k) => k.kind)
    .sort();
  assert.deepEqual(namespaced, [
    'NetworkPolicy',
    'NetworkSet',
    'StagedKubernetesNetworkPolicy',
    'StagedNetworkPolicy',
    'WorkloadEndpoint',
  ]);
  assert.equal(findKind('networking.k8s.io/v1', 'NetworkPolicy'), K8S_KINDS[1]);
  assert.equal(findKind('projectcalico.org/v3', 'NetworkPolicy')?.namespaced, true);
  assert.equal(
    findKind('projectcalico.org/v3', 'networkpolicy'),
    undefined,
    'kind field is case-sensitive',
  );
});

test('validateKind accepts only the named kind; validateResource refuses Kubernetes kinds', async () => {
  const { validateKind, validateResource, validateK8sResource } = await import('./index.js');
  const tier = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'Tier',
    metadata: { name: 't' },
    spec: {},
  };
  assert.equal(validateKind('Tier', tier).ok, true);
  const wrong = validateKind('IPPool', tier);
  assert.equal(wrong.ok, false);
  if (!wrong.ok) assert.equal(wrong.errors[0]?.rule, 'kind-mismatch');
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod' } };
  assert.equal(validateResource(ns).ok, false);
  assert.equal(validateK8sResource(ns).ok, true);
});
