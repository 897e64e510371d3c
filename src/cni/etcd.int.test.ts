// The same plugins against a real etcd with TLS. The plugin runs inside the "host"
// namespace (so its veth lands there), so etcd runs there too, on that namespace's own
// loopback; the test reads etcd back through etcdctl in the same namespace.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodePool, POOL_PREFIX } from '../ipam/index.js';
import { generateTlsFiles, type TlsFiles } from '../testing/etcd.js';
import { spawnTracked, terminate } from '../testing/processes.js';
import { bundlePlugins, callPlugin, Namespaces, type PluginDir } from './testkit.js';

let plugins: PluginDir;
let etcd: ChildProcess | undefined;
let tls: TlsFiles;
let dir: string;
const ns = new Namespaces();
let host: string;
const ENDPOINT = 'https://127.0.0.1:2379';

function conf(endpoints = ENDPOINT) {
  return {
    cniVersion: '1.0.0',
    name: 'etcdnet',
    type: 'calico',
    datastore_type: 'etcdv3',
    etcd_endpoints: endpoints,
    etcd_ca_cert_file: tls.caFile,
    etcd_cert_file: tls.clientCertFile,
    etcd_key_file: tls.clientKeyFile,
    nodename: 'node-e',
    ipam: { type: 'calico-ipam', assign_ipv4: 'true', assign_ipv6: 'true' },
  };
}

function etcdctl(...args: string[]): string {
  return execFileSync(
    'ip',
    [
      'netns',
      'exec',
      host,
      'etcdctl',
      `--endpoints=${ENDPOINT}`,
      `--cacert=${tls.caFile}`,
      `--cert=${tls.clientCertFile}`,
      `--key=${tls.clientKeyFile}`,
      ...args,
    ],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ETCDCTL_API: '3' },
    },
  );
}

function wepKeys(): string[] {
  return etcdctl(
    'get',
    '--prefix',
    '--keys-only',
    '/calico/resources/v3/projectcalico.org/workloadendpoints/',
  )
    .split('\n')
    .filter((l) => l.trim() !== '');
}

const call = (command: string, id: string, netns: string | undefined, config: unknown = conf()) =>
  callPlugin({
    dir: plugins.dir,
    plugin: 'calico',
    host,
    command,
    config,
    containerId: id,
    ...(netns === undefined ? {} : { netns }),
  });

function ok(r: { code: number; stdout: string; stderr: string }): void {
  assert.equal(r.code, 0, `plugin failed: ${r.stdout} ${r.stderr}`);
}

before(async () => {
  plugins = await bundlePlugins();
  dir = mkdtempSync(join(tmpdir(), 'ctc-etcd-'));
  tls = generateTlsFiles(dir);
  host = ns.addHost('host');
  etcd = spawnTracked(
    'ip',
    [
      'netns',
      'exec',
      host,
      'etcd',
      '--name',
      'ctc',
      '--data-dir',
      join(dir, 'data'),
      '--listen-client-urls',
      ENDPOINT,
      '--advertise-client-urls',
      ENDPOINT,
      '--listen-peer-urls',
      'http://127.0.0.1:2380',
      '--initial-advertise-peer-urls',
      'http://127.0.0.1:2380',
      '--initial-cluster',
      'ctc=http://127.0.0.1:2380',
      '--cert-file',
      tls.serverCertFile,
      '--key-file',
      tls.serverKeyFile,
      '--trusted-ca-file',
      tls.caFile,
      '--client-cert-auth',
    ],
    { stdio: 'ignore' },
  );
  for (let i = 0; ; i++) {
    try {
      etcdctl('endpoint', 'health');
      break;
    } catch (err) {
      if (i > 300) throw err;
      await sleep(200);
    }
  }
  etcdctl('put', `${POOL_PREFIX}p4`, encodePool({ name: 'p4', cidr: '10.212.0.0/24' }));
  etcdctl('put', `${POOL_PREFIX}p6`, encodePool({ name: 'p6', cidr: 'fd00:212::/112' }));
});

after(async () => {
  if (etcd !== undefined) await terminate(etcd);
  ns.remove();
  plugins?.cleanup();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

test('etcd over TLS: dual-stack ADD, ping, DEL (also with the netns gone)', async () => {
  const a = ns.add('a');
  const b = ns.add('b');
  const ra = await call('ADD', 'ea', a);
  ok(ra);
  const rb = await call('ADD', 'eb', b);
  ok(rb);
  const ips = (rb.json as { ips: { address: string }[] }).ips.map(
    (i) => i.address.split('/')[0] ?? '',
  );
  assert.equal(ips.length, 2);
  for (const ip of ips)
    execFileSync('ip', ['netns', 'exec', a, 'ping', '-c', '1', '-W', '5', ip], { stdio: 'pipe' });
  const w = JSON.parse(
    etcdctl(
      'get',
      '--print-value-only',
      wepKeys().find((k) => k.endsWith('/node--e-cni-eb-eth0')) ?? 'none',
    ),
  ) as { spec: { ipNetworks: string[] } };
  assert.deepEqual(
    w.spec.ipNetworks,
    (rb.json as { ips: { address: string }[] }).ips.map((i) => i.address),
  );
  ok(await call('DEL', 'ea', a));
  ns.del(b);
  ok(await call('DEL', 'eb', `/run/netns/${b}`));
  ok(await call('DEL', 'eb', undefined));
  assert.deepEqual(wepKeys(), []);
  assert.equal(etcdctl('get', '--prefix', '--keys-only', '/calico/ipam/v2/handle/').trim(), '');
});

test('etcd unreachable: ADD answers 11 (try later) and leaves no interface', async () => {
  const c = ns.add('down');
  const r = await call('ADD', 'down1', c, conf('https://127.0.0.1:1'));
  assert.equal(r.code, 1);
  assert.equal(r.json?.code, 11, r.stdout);
  const links = JSON.parse(
    execFileSync('ip', ['-n', c, '-j', 'link', 'show'], { encoding: 'utf8' }),
  ) as { ifname: string }[];
  assert.deepEqual(
    links.map((l) => l.ifname),
    ['lo'],
  );
});
