import { startEtcd } from '../testing/etcd.js';
import { openEtcdBackend } from './index.js';
import { runConformance } from './testdata/conformance.js';

runConformance('etcd v3', async () => {
  const etcd = await startEtcd();
  return {
    open: () => openEtcdBackend({ endpoints: etcd.endpoints }),
    childEnv: { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: etcd.endpoints.join(',') },
    teardown: () => etcd.stop(),
  };
});
