/**
 * Opening the datastore for one command. Only commands that talk to the store import
 * this module, so `version`, `validate`, `completion` and `--help` never load the
 * SQLite binding or the etcd client.
 */
import { existsSync } from 'node:fs';
import {
  type Backend,
  loadDatastoreConfig,
  openBackend,
  ResourceClient,
} from '../datastore/index.js';

/** calicoctl reads this CalicoAPIConfig file when -c is not given and it exists. */
export const DEFAULT_CONFIG_FILE = '/etc/calico/calicoctl.cfg';

export interface Store {
  backend: Backend;
  client: ResourceClient;
}

/** Runs `fn` against the configured store and always closes it afterwards. */
export async function withStore<T>(
  configFile: string | undefined,
  fn: (store: Store) => Promise<T>,
): Promise<T> {
  const file = configFile ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const backend = await openBackend(loadDatastoreConfig(process.env, file));
  try {
    return await fn({ backend, client: new ResourceClient(backend) });
  } finally {
    await backend.close();
  }
}
