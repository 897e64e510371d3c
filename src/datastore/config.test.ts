import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadDatastoreConfig, parseEndpoints } from './index.js';

test('embedded is the default, under /var/lib/calico unless CALICO_DATA_DIR says otherwise', () => {
  assert.deepEqual(loadDatastoreConfig({}), {
    type: 'embedded',
    path: '/var/lib/calico/calico.db',
  });
  assert.deepEqual(loadDatastoreConfig({ DATASTORE_TYPE: 'embedded', CALICO_DATA_DIR: '/tmp/x' }), {
    type: 'embedded',
    path: '/tmp/x/calico.db',
  });
});

test('etcdv3 from the environment: endpoints list and TLS files', () => {
  assert.deepEqual(
    loadDatastoreConfig({
      DATASTORE_TYPE: 'etcdv3',
      ETCD_ENDPOINTS: 'https://10.0.0.1:2379, 10.0.0.2:2379',
      ETCD_CA_CERT_FILE: '/ca.pem',
      ETCD_CERT_FILE: '/cert.pem',
      ETCD_KEY_FILE: '/key.pem',
    }),
    {
      type: 'etcdv3',
      endpoints: ['https://10.0.0.1:2379', 'https://10.0.0.2:2379'],
      caFile: '/ca.pem',
      certFile: '/cert.pem',
      keyFile: '/key.pem',
    },
  );
  assert.deepEqual(
    loadDatastoreConfig({ DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: '127.0.0.1:2379' }),
    {
      type: 'etcdv3',
      endpoints: ['http://127.0.0.1:2379'],
    },
  );
});

test('bad selections fail with INVALID_CONFIG and say why', () => {
  const bad = (env: NodeJS.ProcessEnv, re: RegExp) =>
    assert.throws(
      () => loadDatastoreConfig(env),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'INVALID_CONFIG');
        assert.match(err.message, re);
        return true;
      },
    );
  bad({ DATASTORE_TYPE: 'kubernetes' }, /datastore type "kubernetes"/);
  bad({ DATASTORE_TYPE: 'etcdv3' }, /endpoints are required/);
  bad({ DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: ' , ' }, /no endpoints/);
  bad({ DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: 'ftp://a:1' }, /scheme must be http or https/);
  bad({ DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: 'http://a' }, /port is required/);
  bad(
    { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: 'a:1', ETCD_CERT_FILE: '/c' },
    /both the client certificate and key/,
  );
  assert.deepEqual(parseEndpoints('a:1,b:2', false, 'x'), ['http://a:1', 'http://b:2']);
});

test('a CalicoAPIConfig file decides when given', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'calico-ts-cfg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'calicoctl.cfg');
  writeFileSync(
    file,
    [
      'apiVersion: projectcalico.org/v3',
      'kind: CalicoAPIConfig',
      'metadata: {}',
      'spec:',
      '  datastoreType: etcdv3',
      '  etcdEndpoints: http://127.0.0.1:2379,http://127.0.0.2:2379',
      '  etcdCACertFile: /etc/calico/ca.pem',
      '',
    ].join('\n'),
  );
  assert.deepEqual(loadDatastoreConfig({ DATASTORE_TYPE: 'embedded' }, file), {
    type: 'etcdv3',
    endpoints: ['http://127.0.0.1:2379', 'http://127.0.0.2:2379'],
    caFile: '/etc/calico/ca.pem',
  });
  writeFileSync(file, 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec: {}\n');
  assert.deepEqual(loadDatastoreConfig({ CALICO_DATA_DIR: '/d' }, file), {
    type: 'embedded',
    path: '/d/calico.db',
  });
  writeFileSync(file, 'apiVersion: v1\nkind: Config\n');
  assert.throws(() => loadDatastoreConfig({}, file), /kind must be CalicoAPIConfig/);
  writeFileSync(file, 'spec: [unclosed\n');
  assert.throws(() => loadDatastoreConfig({}, file), { code: 'INVALID_CONFIG' });
  assert.throws(() => loadDatastoreConfig({}, join(dir, 'missing.cfg')), /Cannot read config file/);
});
