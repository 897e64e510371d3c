// calicoctl end to end, part 1 (apply, get, selectors, round trip), on a real etcd started by the test (the bundled executable as a child process).
import { loadDatastoreConfig, openBackend } from '../datastore/index.js';
import { startEtcd } from '../testing/etcd.js';
import { suite } from './testkit.js';

suite('etcd v3', 1, async () => {
  const etcd = await startEtcd();
  const env = { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: etcd.endpoints.join(',') };
  return { env, open: () => openBackend(loadDatastoreConfig(env)), stop: () => etcd.stop() };
});
