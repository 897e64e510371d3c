// Datastore access for one plugin invocation: netconf keys override the environment
// (DATASTORE_TYPE, ETCD_*, CALICO_DATA_DIR), exactly one backend per process.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import {
  type Backend,
  DatastoreError,
  loadDatastoreConfig,
  openBackend,
} from '../datastore/index.js';
import { CNI_CODES, CniError } from './errors.js';
import type { NetConf } from './netconf.js';

export async function openStore(conf: NetConf, env: NodeJS.ProcessEnv): Promise<Backend> {
  const e: NodeJS.ProcessEnv = { ...env };
  if (conf.datastore_type !== undefined) {
    // "etcd" is what older Calico configs say; "kubernetes" has no backend here.
    const t = conf.datastore_type === 'etcd' ? 'etcdv3' : conf.datastore_type;
    if (t !== 'etcdv3' && t !== 'embedded')
      throw new CniError(
        CNI_CODES.INVALID_CONFIG,
        `datastore_type "${conf.datastore_type}" is not supported; use "etcdv3" or "embedded"`,
      );
    e.DATASTORE_TYPE = t;
  }
  if (conf.etcd_endpoints !== undefined) e.ETCD_ENDPOINTS = conf.etcd_endpoints;
  if (conf.etcd_ca_cert_file !== undefined) e.ETCD_CA_CERT_FILE = conf.etcd_ca_cert_file;
  if (conf.etcd_cert_file !== undefined) e.ETCD_CERT_FILE = conf.etcd_cert_file;
  if (conf.etcd_key_file !== undefined) e.ETCD_KEY_FILE = conf.etcd_key_file;
  if (conf.data_dir !== undefined) e.CALICO_DATA_DIR = conf.data_dir;
  try {
    return await openBackend(loadDatastoreConfig(e));
  } catch (err) {
    if (err instanceof DatastoreError && err.code === 'INVALID_CONFIG')
      throw new CniError(CNI_CODES.INVALID_CONFIG, err.message);
    if (err instanceof DatastoreError && err.code === 'UNAVAILABLE')
      throw new CniError(CNI_CODES.TRY_LATER, err.message);
    throw err;
  }
}

/** nodename, then nodename_file (as calico-node writes it), then NODENAME, then hostname. */
export function nodeName(conf: NetConf, env: NodeJS.ProcessEnv): string {
  if (conf.nodename !== undefined) return conf.nodename;
  const file = conf.nodename_file ?? '/var/lib/calico/nodename';
  try {
    const n = readFileSync(file, 'utf8').trim();
    if (n !== '') return n;
  } catch {
    if (conf.nodename_file !== undefined)
      throw new CniError(CNI_CODES.INVALID_CONFIG, `Cannot read nodename_file ${file}`);
  }
  return env.NODENAME || hostname();
}
