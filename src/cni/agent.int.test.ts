// The plugin with the real node agent (bundled calico-node) on the embedded store: ADD
// waits for the agent's endpoint status file, and the network profile the plugin
// writes is enforced (members of one network reach each other, others do not get in).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EmbeddedBackend } from '../datastore/index.js';
import { encodePool, POOL_PREFIX } from '../ipam/index.js';
import { freePort } from '../testing/etcd.js';
import { spawnTracked, tail, terminate } from '../testing/processes.js';
import { bundlePlugins, callPlugin, Namespaces, type PluginDir } from './testkit.js';

let plugins: PluginDir;
let dir: string;
const ns = new Namespaces();
let host: string;
let agent: ReturnType<typeof spawnTracked> | undefined;
let agentLog: () => string = () => '';

const conf = (name: string) => ({
  cniVersion: '1.0.0',
  name,
  type: 'calico',
  datastore_type: 'embedded',
  data_dir: dir,
  nodename: 'node-p',
  ipam: { type: 'calico-ipam' },
  policy_setup_timeout_seconds: 60,
  endpoint_status_dir: join(dir, 'status', 'endpoint-status'),
});

before(async () => {
  plugins = await bundlePlugins(true);
  dir = mkdtempSync(join(tmpdir(), 'ctc-agent-'));
  const b = new EmbeddedBackend({ path: join(dir, 'calico.db') });
  try {
    await b.put(`${POOL_PREFIX}p4`, encodePool({ name: 'p4', cidr: '10.213.0.0/24' }));
  } finally {
    await b.close();
  }
  host = ns.addHost('host');
  agent = spawnTracked(process.execPath, [join(plugins.dir, 'calico-node.mjs')], {
    env: {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      DATASTORE_TYPE: 'embedded',
      CALICO_DATA_DIR: dir,
      NODENAME: 'node-p',
      CALICO_NETNS: host,
      IP: '10.254.0.1/24',
      NO_DEFAULT_POOLS: 'true',
      FELIX_HEALTHPORT: String(await freePort()),
      FELIX_PROMETHEUSMETRICSPORT: String(await freePort()),
      FELIX_ENDPOINTSTATUSPATHPREFIX: join(dir, 'status'),
      FELIX_DEFAULTENDPOINTTOHOSTACTION: 'Accept',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  agentLog = tail(agent.stderr, 20000);
});

after(async () => {
  if (agent !== undefined) await terminate(agent, 'SIGTERM', 10000);
  ns.remove();
  plugins?.cleanup();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const add = (network: string, id: string, netns: string) =>
  callPlugin({
    dir: plugins.dir,
    plugin: 'calico',
    host,
    command: 'ADD',
    containerId: id,
    netns,
    config: conf(network),
  });

function pings(from: string, ip: string): boolean {
  try {
    execFileSync('ip', ['netns', 'exec', from, 'ping', '-c', '1', '-W', '2', ip], {
      stdio: 'pipe',
    });
    return true;
  } catch {
    return false;
  }
}

test('ADD waits for policy; the network profile admits members only', async () => {
  const a = ns.add('a');
  const b = ns.add('b');
  const x = ns.add('x');
  const ra = await add('blue', 'pa', a);
  assert.equal(ra.code, 0, `${ra.stdout} ${ra.stderr} ${agentLog()}`);
  // ADD returned, so the agent's file must already say programmed
  const file = join(
    conf('blue').endpoint_status_dir,
    encodeURIComponent('default/node--p-cni-pa-eth0'),
  );
  assert.ok(existsSync(file), `status file missing; agent log: ${agentLog()}`);
  assert.equal(
    (JSON.parse(readFileSync(file, 'utf8')) as { policyProgrammed: boolean }).policyProgrammed,
    true,
  );
  const rb = await add('blue', 'pb', b);
  assert.equal(rb.code, 0, rb.stdout);
  const rx = await add('red', 'px', x);
  assert.equal(rx.code, 0, rx.stdout);
  const ipOf = (r: typeof ra) =>
    ((r.json as { ips: { address: string }[] }).ips[0]?.address ?? '').split('/')[0] ?? '';
  assert.equal(pings(a, ipOf(rb)), true, 'blue → blue');
  assert.equal(pings(x, ipOf(rb)), false, 'red → blue is not admitted');
  for (const [id, n, net] of [
    ['pa', a, 'blue'],
    ['pb', b, 'blue'],
    ['px', x, 'red'],
  ] as const) {
    const r = await callPlugin({
      dir: plugins.dir,
      plugin: 'calico',
      host,
      command: 'DEL',
      containerId: id,
      netns: n,
      config: conf(net),
    });
    assert.equal(r.code, 0, r.stdout);
  }
});
