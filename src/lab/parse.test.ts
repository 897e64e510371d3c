import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatMatrix } from './probe.js';
import { endpointName, parseLabels, parsePorts } from './workloads.js';

test('ports: plain, named, protocol defaults to TCP', () => {
  assert.deepEqual(parsePorts('80/tcp,81,http=8080/tcp,dns=53/udp'), [
    { port: 80, protocol: 'TCP' },
    { port: 81, protocol: 'TCP' },
    { name: 'http', port: 8080, protocol: 'TCP' },
    { name: 'dns', port: 53, protocol: 'UDP' },
  ]);
  assert.deepEqual(parsePorts(''), []);
  assert.throws(() => parsePorts('0/tcp'), /Cannot parse port "0\/tcp"/);
  assert.throws(() => parsePorts('80/sctp'), RangeError);
});

test('labels: k=v pairs, values may hold "="', () => {
  assert.deepEqual(parseLabels('app=db,tier=a=b'), { app: 'db', tier: 'a=b' });
  assert.throws(() => parseLabels('app'), /expected key=value/);
});

test('endpoint names double dashes as Calico does', () => {
  assert.equal(endpointName('host-1', 'db-1'), 'host--1-k8s-db--1-eth0');
});

test('matrix marks the diagonal and each verdict', () => {
  const text = formatMatrix(
    {
      protocol: 'tcp',
      port: 80,
      results: [
        { from: 'a/x', to: 'a/y', connected: true },
        { from: 'a/y', to: 'a/x', connected: false },
      ],
    },
    ['a/x', 'a/y'],
  );
  assert.match(text, /TCP port 80: 1\/2 connected/);
  assert.match(text, /a\/x\s+·\s+✓/);
  assert.match(text, /a\/y\s+✗\s+·/);
});
