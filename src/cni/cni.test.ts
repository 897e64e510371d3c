import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCniArgs, readEnv } from './env.js';
import { CniError, errorJson } from './errors.js';
import { handleId, hostVethName } from './names.js';
import { parseNetConf } from './netconf.js';
import { versionResult } from './run.js';

const codeOf = (fn: () => unknown): number | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as CniError).code;
  }
  return undefined;
};

test('host veth names: SHA-1 of <ns>.<pod> for Kubernetes, of the container id otherwise', () => {
  assert.equal(hostVethName('x', { namespace: 'web', pod: 'front-end' }), 'cali2587502c3f3');
  assert.equal(hostVethName('abc123', undefined), 'cali6367c48dd19');
  assert.equal(handleId('k8s-pod-network', 'abc'), 'k8s-pod-network.abc');
});

test('CNI_ARGS and the environment', () => {
  assert.deepEqual(parseCniArgs('IgnoreUnknown=1;K8S_POD_NAME=a=b;'), {
    IgnoreUnknown: '1',
    K8S_POD_NAME: 'a=b',
  });
  assert.equal(
    codeOf(() => parseCniArgs('novalue')),
    4,
  );
  assert.equal(
    codeOf(() => readEnv({})),
    4,
  );
  assert.equal(
    codeOf(() => readEnv({ CNI_COMMAND: 'ADD', CNI_PATH: '/x' })),
    4,
  );
  const del = readEnv({
    CNI_COMMAND: 'DEL',
    CNI_CONTAINERID: 'c',
    CNI_IFNAME: 'eth0',
    CNI_PATH: '/a:/b',
  });
  assert.equal(del.netns, '');
  assert.deepEqual(del.path, ['/a', '/b']);
  assert.equal(
    codeOf(() =>
      readEnv({
        CNI_COMMAND: 'DEL',
        CNI_CONTAINERID: 'c/../x',
        CNI_IFNAME: 'eth0',
        CNI_PATH: '/a',
      }),
    ),
    4,
  );
  assert.equal(readEnv({ CNI_COMMAND: 'VERSION' }).command, 'VERSION');
});

test('network config: defaults, Calico keys, labels and ports, error codes', () => {
  const c = parseNetConf(
    JSON.stringify({
      cniVersion: '1.1.0',
      name: 'net1',
      type: 'calico',
      ipam: { type: 'calico-ipam', assign_ipv6: 'true', ipv4_pools: ['p4'] },
      args: { cni: { labels: [{ key: 'app', value: 'x' }], ports: [{ name: 'http', port: 80 }] } },
    }),
    { requireIpam: true },
  );
  assert.equal(c.mtu, 1500);
  assert.equal(c.ipam.assign_ipv4, true);
  assert.equal(c.ipam.assign_ipv6, true);
  assert.deepEqual(c.ipam.ipv4_pools, ['p4']);
  assert.deepEqual(c.labels, { app: 'x' });
  assert.deepEqual(c.ports, [{ name: 'http', protocol: 'TCP', port: 80 }]);
  assert.equal(c.endpoint_status_dir, '/var/run/calico/endpoint-status');
  const base = { cniVersion: '1.0.0', name: 'n', ipam: { type: 'calico-ipam' } };
  const code = (o: unknown) =>
    codeOf(() =>
      parseNetConf(typeof o === 'string' ? o : JSON.stringify(o), { requireIpam: true }),
    );
  assert.equal(code('{'), 6);
  assert.equal(code('[]'), 6);
  assert.equal(code({ ...base, cniVersion: '2.0.0' }), 1);
  assert.equal(code({ ...base, name: 'Bad_Name' }), 7);
  assert.equal(code({ ...base, ipam: {} }), 7);
  assert.equal(code({ ...base, ipam: { type: 'calico-ipam', assign_ipv4: 'false' } }), 7);
  assert.equal(code({ ...base, mtu: -1 }), 7);
  assert.equal(code({ ...base, args: { cni: { ports: [{ name: 'HTTP', port: 80 }] } } }), 7);
  assert.equal(code({ ...base, log_level: 'loud' }), 7);
  assert.equal(code({ ...base, datastore_type: 'kubernetes' }), 7);
});

test('VERSION answers in the requested version; errors keep their code', () => {
  assert.deepEqual(versionResult(''), {
    cniVersion: '1.1.0',
    supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'],
  });
  assert.equal(versionResult('{"cniVersion":"0.3.1"}').cniVersion, '0.3.1');
  assert.deepEqual(errorJson('1.0.0', new CniError(7, 'bad')), {
    cniVersion: '1.0.0',
    code: 7,
    msg: 'bad',
  });
  assert.equal(
    errorJson('1.0.0', Object.assign(new Error('down'), { code: 'UNAVAILABLE' })).code,
    11,
  );
  assert.equal(errorJson('1.0.0', new TypeError('boom')).code, 999);
});
