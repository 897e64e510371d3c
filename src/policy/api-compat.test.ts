// The engine accepts what src/api validates: its inferred types are assignable to
// the converters' inputs, and `validate: true` runs every resource through it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type GlobalNetworkPolicy,
  type HostEndpoint,
  type K8sNamespace,
  type K8sNetworkPolicy,
  type NetworkPolicy,
  parseResource,
  type WorkloadEndpoint,
  workloadEndpointName,
} from '../api/index.js';
import {
  buildSnapshot,
  convertHostEndpoint,
  convertK8sNamespace,
  convertK8sNetworkPolicy,
  convertPolicy,
  convertWorkloadEndpoint,
  evaluateFlow,
  PolicyError,
} from './index.js';
import { allowAll, gnp, knp, namespace, np, wep } from './testkit.js';

function podWep(pod: string, ip: string, labels: Record<string, string>) {
  const r = wep(pod, ip, labels, { ns: 'prod', profiles: ['kns.prod'] });
  const spec = r.spec as { node: string; orchestrator: string; endpoint: string };
  r.metadata!.name = workloadEndpointName({
    node: spec.node,
    orchestrator: spec.orchestrator,
    workload: pod,
    endpoint: spec.endpoint,
  });
  return r;
}

test('api types are accepted by the converters', () => {
  const g = parseResource(
    gnp('g', { selector: "app == 'a'", ingress: [{ action: 'Pass' }] }),
  ) as GlobalNetworkPolicy;
  assert.equal(convertPolicy(g).inbound[0]!.action, 'next-tier');
  const n = parseResource(np('prod', 'n', { ingress: [{ action: 'Allow' }] })) as NetworkPolicy;
  assert.equal(convertPolicy(n).key.namespace, 'prod');
  const w = parseResource(podWep('web', '10.0.0.1', { app: 'web' })) as WorkloadEndpoint;
  assert.equal(convertWorkloadEndpoint(w).labels['projectcalico.org/namespace'], 'prod');
  const h = parseResource({
    apiVersion: 'projectcalico.org/v3',
    kind: 'HostEndpoint',
    metadata: { name: 'h' },
    spec: { node: 'n1', interfaceName: 'eth0', expectedIPs: ['192.168.0.1'] },
  }) as HostEndpoint;
  assert.equal(convertHostEndpoint(h).interfaceName, 'eth0');
  const k: K8sNetworkPolicy = knp('prod', 'k', {
    podSelector: {},
    ingress: [{}],
  }) as K8sNetworkPolicy;
  assert.equal(convertK8sNetworkPolicy(k).metadata!.name, 'knp.default.k');
  const ns: K8sNamespace = namespace('prod', { team: 'a' }) as K8sNamespace;
  assert.equal(convertK8sNamespace(ns).metadata!.name, 'kns.prod');
});

test('validate: true builds a snapshot of api-validated, defaulted resources', () => {
  const snap = buildSnapshot(
    [
      allowAll,
      namespace('prod', { team: 'a' }),
      podWep('api', '10.0.0.1', { role: 'api' }),
      podWep('db', '10.0.0.2', { app: 'db' }),
      knp('prod', 'db', {
        podSelector: { matchLabels: { app: 'db' } },
        policyTypes: ['Ingress'],
        ingress: [
          { from: [{ podSelector: { matchLabels: { role: 'api' } } }], ports: [{ port: 5432 }] },
        ],
      }),
    ],
    { validate: true },
  );
  const ok = evaluateFlow(snap, {
    srcIp: '10.0.0.1',
    dstIp: '10.0.0.2',
    protocol: 'TCP',
    dstPort: 5432,
  });
  assert.equal(ok.verdict, 'Allow');
  const no = evaluateFlow(snap, {
    srcIp: '10.0.0.1',
    dstIp: '10.0.0.2',
    protocol: 'TCP',
    dstPort: 22,
  });
  assert.equal(no.verdict, 'Deny');
});

test('validate: true reports every field error of an invalid resource', () => {
  assert.throws(
    () =>
      buildSnapshot(
        [gnp('bad', { ingress: [{ action: 'Allow', destination: { ports: [80] } }] })],
        {
          validate: true,
        },
      ),
    (e: unknown) =>
      e instanceof PolicyError &&
      e.code === 'INVALID_RESOURCE' &&
      e.message.startsWith('GlobalNetworkPolicy bad is invalid:'),
  );
});
