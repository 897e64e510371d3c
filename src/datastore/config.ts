/**
 * Which datastore a program talks to, from the environment or a CalicoAPIConfig file,
 * the same way calicoctl and calico-node are configured.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Backend } from './backend.js';
import { EmbeddedBackend, type EmbeddedOptions } from './embedded.js';
import { DatastoreError } from './errors.js';
import { openEtcdBackend } from './etcd.js';

export const DEFAULT_DATA_DIR = '/var/lib/calico';
export const EMBEDDED_DB_FILE = 'calico.db';

export type DatastoreConfig =
  | { type: 'embedded'; path: string; embedded?: Omit<EmbeddedOptions, 'path'> }
  | {
      type: 'etcdv3';
      endpoints: string[];
      caFile?: string;
      certFile?: string;
      keyFile?: string;
    };

function invalid(message: string): DatastoreError {
  return new DatastoreError('INVALID_CONFIG', message);
}

/** "http://a:2379, b:2379" → ["http://a:2379", "http://b:2379"] (scheme from TLS when absent). */
export function parseEndpoints(text: string, tls: boolean, source: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(',')) {
    const e = raw.trim();
    if (e === '') continue;
    const url = /^[a-z]+:\/\//i.test(e) ? e : `${tls ? 'https' : 'http'}://${e}`;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw invalid(`Cannot use etcd endpoint "${e}" from ${source}: not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw invalid(`Cannot use etcd endpoint "${e}" from ${source}: scheme must be http or https`);
    }
    if (parsed.port === '') {
      throw invalid(`Cannot use etcd endpoint "${e}" from ${source}: a port is required`);
    }
    out.push(`${parsed.protocol}//${parsed.host}`);
  }
  if (out.length === 0) throw invalid(`Cannot use etcd: ${source} lists no endpoints`);
  return out;
}

interface RawSettings {
  datastoreType?: unknown;
  etcdEndpoints?: unknown;
  etcdCACertFile?: unknown;
  etcdCertFile?: unknown;
  etcdKeyFile?: unknown;
  dataDir?: unknown;
}

function str(v: unknown, field: string, source: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string')
    throw invalid(`Cannot read ${field} from ${source}: expected a string`);
  return v;
}

function fromSettings(s: RawSettings, source: string, dataDirDefault: string): DatastoreConfig {
  const type = str(s.datastoreType, 'datastoreType', source) ?? 'embedded';
  if (type === 'embedded') {
    const dir = str(s.dataDir, 'dataDir', source) ?? dataDirDefault;
    return { type: 'embedded', path: join(dir, EMBEDDED_DB_FILE) };
  }
  if (type !== 'etcdv3') {
    throw invalid(
      `Cannot use datastore type "${type}" from ${source}: expected "embedded" or "etcdv3"`,
    );
  }
  const caFile = str(s.etcdCACertFile, 'etcdCACertFile', source);
  const certFile = str(s.etcdCertFile, 'etcdCertFile', source);
  const keyFile = str(s.etcdKeyFile, 'etcdKeyFile', source);
  const endpointsText = str(s.etcdEndpoints, 'etcdEndpoints', source);
  if (endpointsText === undefined) {
    throw invalid(`Cannot use etcdv3 from ${source}: etcd endpoints are required (ETCD_ENDPOINTS)`);
  }
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw invalid(
      `Cannot use etcdv3 from ${source}: give both the client certificate and key, or neither`,
    );
  }
  return {
    type: 'etcdv3',
    endpoints: parseEndpoints(endpointsText, caFile !== undefined, source),
    ...(caFile === undefined ? {} : { caFile }),
    ...(certFile === undefined ? {} : { certFile }),
    ...(keyFile === undefined ? {} : { keyFile }),
  };
}

/**
 * Reads the datastore selection. With a config file (a `CalicoAPIConfig` document)
 * the file decides; otherwise DATASTORE_TYPE (default embedded), ETCD_ENDPOINTS,
 * ETCD_CA_CERT_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE and CALICO_DATA_DIR do.
 */
export function loadDatastoreConfig(
  env: NodeJS.ProcessEnv = process.env,
  configFile?: string,
): DatastoreConfig {
  const dataDirDefault = env.CALICO_DATA_DIR || DEFAULT_DATA_DIR;
  if (configFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(configFile, 'utf8');
    } catch (err) {
      throw new DatastoreError(
        'INVALID_CONFIG',
        `Cannot read config file ${configFile}: ${String(err)}`,
        {
          cause: err,
        },
      );
    }
    let doc: unknown;
    try {
      doc = parse(text);
    } catch (err) {
      throw new DatastoreError(
        'INVALID_CONFIG',
        `Cannot parse config file ${configFile}: ${String(err)}`,
        {
          cause: err,
        },
      );
    }
    const d = doc as { apiVersion?: unknown; kind?: unknown; spec?: unknown } | null;
    if (d === null || typeof d !== 'object') {
      throw invalid(`Cannot use config file ${configFile}: expected a CalicoAPIConfig document`);
    }
    if (d.kind !== 'CalicoAPIConfig') {
      throw invalid(
        `Cannot use config file ${configFile}: kind must be CalicoAPIConfig, got ${JSON.stringify(d.kind)}`,
      );
    }
    if (d.apiVersion !== 'projectcalico.org/v3') {
      throw invalid(
        `Cannot use config file ${configFile}: apiVersion must be projectcalico.org/v3, got ${JSON.stringify(d.apiVersion)}`,
      );
    }
    const spec = (d.spec ?? {}) as RawSettings;
    if (typeof spec !== 'object' || Array.isArray(spec)) {
      throw invalid(`Cannot use config file ${configFile}: spec must be a mapping`);
    }
    return fromSettings(spec, `config file ${configFile}`, dataDirDefault);
  }
  return fromSettings(
    {
      datastoreType: env.DATASTORE_TYPE,
      etcdEndpoints: env.ETCD_ENDPOINTS,
      etcdCACertFile: env.ETCD_CA_CERT_FILE,
      etcdCertFile: env.ETCD_CERT_FILE,
      etcdKeyFile: env.ETCD_KEY_FILE,
    },
    'the environment',
    dataDirDefault,
  );
}

/** Opens the configured backend; etcd3 is only loaded when etcd is selected. */
export async function openBackend(config: DatastoreConfig): Promise<Backend> {
  if (config.type === 'embedded')
    return new EmbeddedBackend({ ...config.embedded, path: config.path });
  return openEtcdBackend({
    endpoints: config.endpoints,
    ...(config.caFile === undefined ? {} : { caFile: config.caFile }),
    ...(config.certFile === undefined ? {} : { certFile: config.certFile }),
    ...(config.keyFile === undefined ? {} : { keyFile: config.keyFile }),
  });
}
