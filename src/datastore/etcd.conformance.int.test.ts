import { startEtcd } from '../testing/etcd.js';
import { openEtcdBackend } from './index.js';
import { runConformance, type Store } from './testdata/conformance.js';
import { runResourceConformance } from './testdata/resources-suite.js';

async function setup(): Promise<Store> {
  const etcd = await startEtcd();
  return {
    open: () => openEtcdBackend({ endpoints: etcd.endpoints }),
    childEnv: { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: etcd.endpoints.join(',') },
    teardown: () => etcd.stop(),
  };
}

runConformance('etcd v3', setup);
runResourceConformance('etcd v3', setup);
