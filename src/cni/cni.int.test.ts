// The real bundled plugins, exec'd as a runtime does from inside a "host" namespace,
// against the embedded store (and, in etcd.int.test.ts, a real etcd).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EmbeddedBackend, ResourceClient } from '../datastore/index.js';
import { encodePool, POOL_PREFIX } from '../ipam/index.js';
import { hostVethName } from './names.js';
import { bundlePlugins, callPlugin, ipJson, Namespaces, type PluginDir } from './testkit.js';

let plugins: PluginDir;
let dataDir: string;
let statusDir: string;
const ns = new Namespaces();
let host: string;

function conf(extra: Record<string, unknown> = {}, ipam: Record<string, unknown> = {}) {
  return {
    cniVersion: '1.0.0',
    name: 'testnet',
    type: 'calico',
    datastore_type: 'embedded',
    data_dir: dataDir,
    nodename: 'node-a',
    mtu: 1400,
    ipam: { type: 'calico-ipam', ...ipam },
    ...extra,
  };
}

async function withStore<T>(
  fn: (rc: ResourceClient, b: EmbeddedBackend) => Promise<T>,
): Promise<T> {
  const b = new EmbeddedBackend({ path: join(dataDir, 'calico.db') });
  try {
    return await fn(new ResourceClient(b), b);
  } finally {
    await b.close();
  }
}

function call(
  command: string,
  containerId: string,
  netns: string | undefined,
  config: unknown = conf(),
  extra: { args?: string; ifname?: string; env?: Record<string, string | undefined> } = {},
) {
  return callPlugin({
    dir: plugins.dir,
    plugin: 'calico',
    host,
    command,
    config,
    containerId,
    ...(netns === undefined ? {} : { netns }),
    ...extra,
  });
}

function ok(r: { code: number; stdout: string; stderr: string }): void {
  assert.equal(r.code, 0, `plugin failed: ${r.stdout} ${r.stderr}`);
}

before(async () => {
  plugins = await bundlePlugins();
  dataDir = mkdtempSync(join(tmpdir(), 'ctc-data-'));
  statusDir = join(dataDir, 'endpoint-status');
  mkdirSync(statusDir);
  await withStore(async (_rc, b) => {
    await b.put(
      `${POOL_PREFIX}pool4`,
      encodePool({ name: 'pool4', cidr: '10.210.0.0/24', blockSize: 28 }),
    );
    await b.put(
      `${POOL_PREFIX}pool6`,
      encodePool({ name: 'pool6', cidr: 'fd00:210::/120', blockSize: 124 }),
    );
  });
  host = ns.addHost('host');
});

after(() => {
  ns.remove();
  plugins?.cleanup();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

describe('calico plugin on the embedded store', () => {
  test('ADD plumbs the workload, writes the endpoint and profile; DEL removes all, twice', async () => {
    const ctr = ns.add('c1');
    const r = await call('ADD', 'ctr1', ctr);
    ok(r);
    const res = r.json as {
      cniVersion: string;
      interfaces: { name: string; mac: string; sandbox?: string }[];
      ips: { address: string; interface: number }[];
    };
    assert.equal(res.cniVersion, '1.0.0');
    const hostIf = hostVethName('ctr1', undefined);
    assert.match(hostIf, /^cali[0-9a-f]{11}$/);
    assert.deepEqual(res.interfaces[0], { name: hostIf, mac: 'ee:ee:ee:ee:ee:ee' });
    assert.equal(res.interfaces[1]?.name, 'eth0');
    assert.equal(res.ips.length, 1);
    const addr = res.ips[0]?.address ?? '';
    assert.match(addr, /^10\.210\.0\.\d+\/32$/);
    const ip = addr.split('/')[0] ?? '';
    // host side
    const [link] = ipJson(host, ['link', 'show', 'dev', hostIf]) as {
      address: string;
      mtu: number;
      flags: string[];
    }[];
    assert.equal(link?.address, 'ee:ee:ee:ee:ee:ee');
    assert.equal(link?.mtu, 1400);
    assert.ok(link?.flags.includes('UP'));
    const routes = ipJson(host, ['route', 'show', 'dev', hostIf]) as {
      dst: string;
      scope: string;
    }[];
    assert.deepEqual(
      routes.map((x) => [x.dst, x.scope]),
      [[ip, 'link']],
    );
    const sys = (k: string) =>
      execFileSync('ip', ['netns', 'exec', host, 'sysctl', '-n', k], { encoding: 'utf8' }).trim();
    assert.equal(sys(`net.ipv4.conf.${hostIf}.proxy_arp`), '1');
    assert.equal(sys(`net.ipv4.neigh.${hostIf}.proxy_delay`), '0');
    assert.equal(sys(`net.ipv4.conf.${hostIf}.route_localnet`), '1');
    // container side
    const caddr = ipJson(ctr, ['-4', 'addr', 'show', 'dev', 'eth0']) as {
      addr_info: { local: string; prefixlen: number }[];
    }[];
    assert.deepEqual(
      caddr[0]?.addr_info.map((a) => `${a.local}/${a.prefixlen}`),
      [addr],
    );
    const croutes = ipJson(ctr, ['route', 'show']) as { dst: string; gateway?: string }[];
    assert.ok(croutes.some((x) => x.dst === 'default' && x.gateway === '169.254.1.1'));
    // datastore
    await withStore(async (rc) => {
      const wep = await rc.get('WorkloadEndpoint', 'node--a-cni-ctr1-eth0', {
        namespace: 'default',
      });
      assert.ok(wep, 'endpoint written');
      assert.equal(wep.spec.interfaceName, hostIf);
      assert.deepEqual(wep.spec.ipNetworks, [addr]);
      assert.deepEqual(wep.spec.profiles, ['testnet']);
      const prof = await rc.get('Profile', 'testnet');
      assert.deepEqual(prof?.spec.labelsToApply, { testnet: '' });
    });
    // CHECK with the ADD result as prevResult
    ok(await call('CHECK', 'ctr1', ctr, { ...conf(), prevResult: res }));
    // DEL, twice
    ok(await call('DEL', 'ctr1', ctr));
    ok(await call('DEL', 'ctr1', ctr));
    assert.equal(
      (ipJson(host, ['link', 'show']) as { ifname: string }[]).some((l) => l.ifname === hostIf),
      false,
    );
    assert.equal(
      (ipJson(ctr, ['link', 'show']) as { ifname: string }[]).some((l) => l.ifname === 'eth0'),
      false,
    );
    await withStore(async (rc, b) => {
      assert.equal(
        await rc.get('WorkloadEndpoint', 'node--a-cni-ctr1-eth0', { namespace: 'default' }),
        undefined,
      );
      assert.equal((await b.list('/calico/ipam/v2/handle/testnet.ctr1')).items.length, 0);
    });
    // CHECK after DEL reports the missing interface
    const chk = await call('CHECK', 'ctr1', ctr, { ...conf(), prevResult: res });
    assert.equal(chk.code, 1);
    assert.equal(chk.json?.code, 104);
  });

  test('DEL of something never added succeeds, with and without a netns', async () => {
    const ctr = ns.add('never');
    ok(await call('DEL', 'never-added', ctr));
    ok(await call('DEL', 'never-added2', undefined));
  });

  test('ADD twice fails with 101 and allocates nothing more; DEL after the netns is gone frees IPAM', async () => {
    const ctr = ns.add('twice');
    const first = await call('ADD', 'twice', ctr);
    ok(first);
    const second = await call('ADD', 'twice', ctr);
    assert.equal(second.code, 1);
    assert.equal(second.json?.code, 101);
    await withStore(async (_rc, b) => {
      const h = await b.get('/calico/ipam/v2/handle/testnet.twice');
      assert.ok(h);
      assert.equal(
        Object.values((JSON.parse(h.value) as { block: Record<string, number> }).block).reduce(
          (a, n) => a + n,
          0,
        ),
        1,
      );
    });
    ns.del(ctr);
    ok(await call('DEL', 'twice', `/run/netns/${ctr}`));
    await withStore(async (rc, b) => {
      assert.equal(await b.get('/calico/ipam/v2/handle/testnet.twice'), undefined);
      assert.equal(
        await rc.get('WorkloadEndpoint', 'node--a-cni-twice-eth0', { namespace: 'default' }),
        undefined,
      );
    });
    assert.equal(
      (ipJson(host, ['link', 'show']) as { ifname: string }[]).some(
        (l) => l.ifname === hostVethName('twice', undefined),
      ),
      false,
    );
  });

  test('dual stack Kubernetes-style endpoint: names, labels, ports, IPv6 gateway', async () => {
    const ctr = ns.add('k8s');
    const args =
      'IgnoreUnknown=1;K8S_POD_NAMESPACE=web;K8S_POD_NAME=front-end;K8S_POD_INFRA_CONTAINER_ID=k1';
    const c = conf(
      {
        args: {
          cni: { labels: { app: 'front' }, ports: [{ name: 'http', protocol: 'TCP', port: 8080 }] },
        },
      },
      { assign_ipv6: 'true' },
    );
    const r = await call('ADD', 'k1', ctr, c, { args });
    ok(r);
    const res = r.json as { ips: { address: string }[]; interfaces: { name: string }[] };
    assert.equal(res.ips.length, 2);
    assert.match(res.ips[1]?.address ?? '', /^fd00:210::[0-9a-f]+\/128$/);
    const hostIf = hostVethName('k1', { namespace: 'web', pod: 'front-end' });
    assert.equal(res.interfaces[0]?.name, hostIf);
    const sys = (k: string) =>
      execFileSync('ip', ['netns', 'exec', host, 'sysctl', '-n', k], { encoding: 'utf8' }).trim();
    assert.equal(sys(`net.ipv6.conf.${hostIf}.accept_dad`), '0');
    assert.equal(sys(`net.ipv6.conf.${hostIf}.proxy_ndp`), '1');
    const r6 = ipJson(ctr, ['-6', 'route', 'show', 'default']) as { gateway?: string }[];
    assert.equal(r6[0]?.gateway, 'fe80::ecee:eeff:feee:eeee');
    const h6 = ipJson(host, ['-6', 'route', 'show', 'dev', hostIf]) as { dst: string }[];
    assert.ok(
      h6.some((x) => `${x.dst}/128` === res.ips[1]?.address || x.dst === res.ips[1]?.address),
    );
    await withStore(async (rc) => {
      const wep = await rc.get('WorkloadEndpoint', 'node--a-k8s-front--end-eth0', {
        namespace: 'web',
      });
      assert.ok(wep);
      assert.equal(wep.spec.orchestrator, 'k8s');
      assert.equal(wep.spec.pod, 'front-end');
      assert.deepEqual(wep.spec.profiles, ['kns.web']);
      assert.equal(wep.metadata.labels?.app, 'front');
      assert.equal(wep.metadata.labels?.['projectcalico.org/namespace'], 'web');
      assert.deepEqual(wep.spec.ports, [{ name: 'http', protocol: 'TCP', port: 8080 }]);
      assert.ok(await rc.get('Profile', 'kns.web'));
    });
    ok(await call('CHECK', 'k1', ctr, { ...c, prevResult: res }, { args }));
    ok(await call('DEL', 'k1', ctr, c, { args }));
    await withStore(async (rc) => {
      assert.equal(
        await rc.get('WorkloadEndpoint', 'node--a-k8s-front--end-eth0', { namespace: 'web' }),
        undefined,
      );
    });
  });

  test('two workloads on one host ping each other (v4 and v6)', async () => {
    const a = ns.add('pa');
    const b = ns.add('pb');
    const c = conf({}, { assign_ipv6: true });
    const ra = await call('ADD', 'pinga', a, c);
    ok(ra);
    const rb = await call('ADD', 'pingb', b, c);
    ok(rb);
    const ips = (rb.json as { ips: { address: string }[] }).ips.map(
      (i) => i.address.split('/')[0] ?? '',
    );
    try {
      for (const ip of ips) {
        execFileSync('ip', ['netns', 'exec', a, 'ping', '-c', '1', '-W', '5', ip], {
          stdio: 'pipe',
        });
      }
    } finally {
      ok(await call('DEL', 'pinga', a, c));
      ok(await call('DEL', 'pingb', b, c));
    }
  });

  test('chained with tuning, portmap and bandwidth at 1.0.0, prevResult threaded; DEL in reverse', async () => {
    const ctr = ns.add('chain');
    const list = {
      cniVersion: '1.0.0',
      name: 'testnet',
      plugins: [
        conf(),
        { type: 'tuning', sysctl: { 'net.core.somaxconn': '512' } },
        { type: 'portmap', snat: false, capabilities: { portMappings: true } },
        { type: 'bandwidth', capabilities: { bandwidth: true } },
      ],
    };
    // bandwidth shapes on the host side of our veth (found through prevResult's
    // interfaces) and on an ifb device it mirrors the veth's ingress to.
    const rates = {
      ingressRate: 8_000_000,
      ingressBurst: 1_000_000,
      egressRate: 4_000_000,
      egressBurst: 1_000_000,
    };
    let prev: Record<string, unknown> | undefined;
    const confs = list.plugins.map((p, i) => ({
      cniVersion: list.cniVersion,
      name: list.name,
      ...p,
      ...(i === 2
        ? {
            runtimeConfig: {
              portMappings: [{ hostPort: 18080, containerPort: 80, protocol: 'tcp' }],
            },
          }
        : {}),
      ...(i === 3 ? { runtimeConfig: { bandwidth: rates } } : {}),
    }));
    for (const p of confs) {
      const r = await callPlugin({
        dir: plugins.dir,
        plugin: p.type,
        host,
        command: 'ADD',
        containerId: 'chain1',
        netns: ctr,
        config: { ...p, ...(prev === undefined ? {} : { prevResult: prev }) },
      });
      ok(r);
      prev = r.json;
    }
    const final = prev as {
      ips: { address: string }[];
      interfaces: { name: string; sandbox?: string }[];
    };
    assert.equal(final.ips.length, 1);
    // our veth pair, plus the ifb device bandwidth adds for egress shaping
    assert.equal(final.interfaces.length, 3);
    const hostVeth = final.interfaces.find((i) => i.name.startsWith('cali'))?.name ?? '';
    assert.match(hostVeth, /^cali[0-9a-f]{11}$/);
    const qdiscs = (dev: string) =>
      execFileSync('ip', ['netns', 'exec', host, 'tc', 'qdisc', 'show', 'dev', dev], {
        encoding: 'utf8',
      });
    assert.match(qdiscs(hostVeth), /qdisc tbf .*rate 8Mbit/);
    const ifb =
      final.interfaces.find((i) => !i.name.startsWith('cali') && i.sandbox === undefined)?.name ??
      '';
    assert.ok(ifb !== '', `no ifb device in ${JSON.stringify(final.interfaces)}`);
    assert.match(qdiscs(ifb), /qdisc tbf .*rate 4Mbit/);
    assert.equal(
      execFileSync('ip', ['netns', 'exec', ctr, 'sysctl', '-n', 'net.core.somaxconn'], {
        encoding: 'utf8',
      }).trim(),
      '512',
    );
    const nat = execFileSync('ip', ['netns', 'exec', host, 'iptables-save', '-t', 'nat'], {
      encoding: 'utf8',
    });
    assert.match(nat, /18080/);
    for (const p of [...confs].reverse()) {
      const r = await callPlugin({
        dir: plugins.dir,
        plugin: p.type,
        host,
        command: 'DEL',
        containerId: 'chain1',
        netns: ctr,
        config: { ...p, prevResult: final },
      });
      ok(r);
    }
    assert.doesNotMatch(
      execFileSync('ip', ['netns', 'exec', host, 'iptables-save', '-t', 'nat'], {
        encoding: 'utf8',
      }),
      /18080/,
    );
    const links = execFileSync('ip', ['-n', host, '-o', 'link', 'show'], { encoding: 'utf8' });
    assert.doesNotMatch(links, new RegExp(`${hostVeth}|${ifb}`), 'DEL left an interface behind');
  });

  test('host-local as the delegated IPAM plugin, by exec from CNI_PATH', async () => {
    const ctr = ns.add('hl');
    const c = conf(
      {},
      { type: 'host-local', subnet: '10.211.0.0/28', dataDir: join(dataDir, 'host-local') },
    );
    const r = await call('ADD', 'hl1', ctr, c);
    ok(r);
    assert.match(
      (r.json as { ips: { address: string }[] }).ips[0]?.address ?? '',
      /^10\.211\.0\.\d+\/28$/,
    );
    ok(await call('DEL', 'hl1', ctr, c));
    const again = await call('ADD', 'hl2', ns.add('hl2'), c);
    ok(again);
    ok(await call('DEL', 'hl2', undefined, c));
  });

  test('GC (1.1.0) frees addresses and endpoints of attachments no longer valid', async () => {
    const c = { ...conf(), cniVersion: '1.1.0' };
    const a = ns.add('gca');
    const b = ns.add('gcb');
    ok(await call('ADD', 'gca', a, c));
    ok(await call('ADD', 'gcb', b, c));
    ok(
      await call(
        'GC',
        '',
        undefined,
        { ...c, 'cni.dev/valid-attachments': [{ containerID: 'gca', ifname: 'eth0' }] },
        { ifname: '' },
      ),
    );
    await withStore(async (rc, st) => {
      assert.ok(await st.get('/calico/ipam/v2/handle/testnet.gca'));
      assert.equal(await st.get('/calico/ipam/v2/handle/testnet.gcb'), undefined);
      assert.ok(await rc.get('WorkloadEndpoint', 'node--a-cni-gca-eth0', { namespace: 'default' }));
      assert.equal(
        await rc.get('WorkloadEndpoint', 'node--a-cni-gcb-eth0', { namespace: 'default' }),
        undefined,
      );
    });
    ok(await call('DEL', 'gca', a, c));
    ok(await call('DEL', 'gcb', b, c));
  });

  test('STATUS (1.1.0): ready with pools, 50 without an IPv6 pool to use; 1 at 1.0.0', async () => {
    ok(await call('STATUS', '', undefined, { ...conf(), cniVersion: '1.1.0' }, { ifname: '' }));
    const none = await call(
      'STATUS',
      '',
      undefined,
      {
        ...conf({}, { assign_ipv6: true, assign_ipv4: false }),
        cniVersion: '1.1.0',
        data_dir: join(dataDir, 'empty'),
      },
      { ifname: '' },
    );
    assert.equal(none.json?.code, 50);
    const old = await call('STATUS', '', undefined, conf(), { ifname: '' });
    assert.equal(old.json?.code, 1);
    rmSync(join(dataDir, 'empty'), { recursive: true, force: true });
  });

  test('policy wait: ADD returns once the agent status file says programmed', async () => {
    const ctr = ns.add('pw');
    const c = conf({ policy_setup_timeout_seconds: 30, endpoint_status_dir: statusDir });
    const file = join(statusDir, encodeURIComponent('default/node--a-cni-pw1-eth0'));
    const pending = call('ADD', 'pw1', ctr, c);
    // the plugin must still be waiting while the file says "not yet"
    writeFileSync(
      file,
      JSON.stringify({ status: 'up', policyProgrammed: false, interfaceName: 'x' }),
    );
    let done = false;
    void pending.then(() => {
      done = true;
    });
    for (let i = 0; i < 600; i++) {
      const w = await withStore((rc) =>
        rc.get('WorkloadEndpoint', 'node--a-cni-pw1-eth0', { namespace: 'default' }),
      );
      if (w !== undefined) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(done, false, 'ADD returned before the policy was programmed');
    writeFileSync(
      file,
      JSON.stringify({ status: 'up', policyProgrammed: true, interfaceName: 'x' }),
    );
    ok(await pending);
    ok(await call('DEL', 'pw1', ctr, c));
  });

  test('errors: codes on stdout, never a stack trace', async () => {
    const ctr = ns.add('err');
    const cases: [string, Parameters<typeof call>, number][] = [
      ['missing env', ['ADD', '', ctr], 4],
      ['bad json', ['ADD', 'e1', ctr, '{not json'], 6],
      ['no name', ['ADD', 'e1', ctr, { ...conf(), name: undefined }], 7],
      ['no ipam type', ['ADD', 'e1', ctr, { ...conf(), ipam: {} }], 7],
      ['bad datastore', ['ADD', 'e1', ctr, { ...conf(), datastore_type: 'kubernetes' }], 7],
      ['bad version', ['ADD', 'e1', ctr, { ...conf(), cniVersion: '9.9.9' }], 1],
      ['bad mtu', ['ADD', 'e1', ctr, { ...conf(), mtu: 'big' }], 7],
      ['missing netns', ['ADD', 'e1', '/run/netns/ctc-does-not-exist'], 102],
      ['pool exhausted', ['ADD', 'e1', ctr, conf({}, { ipv4_pools: ['nosuchpool'] })], 100],
      ['unknown ipam plugin', ['ADD', 'e1', ctr, conf({}, { type: 'no-such-ipam' })], 7],
    ];
    for (const [what, args, code] of cases) {
      const r = await call(...args);
      assert.equal(r.code, 1, `${what}: exit code`);
      assert.equal(r.json?.code, code, `${what}: ${r.stdout}`);
      assert.equal(typeof r.json?.msg, 'string');
      assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, `${what}: stack trace`);
    }
    const env = await callPlugin({
      dir: plugins.dir,
      plugin: 'calico',
      host,
      command: 'FROB',
      config: conf(),
    });
    assert.equal(env.json?.code, 4);
    // nothing leaked by the failed ADDs
    await withStore(async (_rc, b) =>
      assert.equal(await b.get('/calico/ipam/v2/handle/testnet.e1'), undefined),
    );
    assert.equal(
      (ipJson(ctr, ['link', 'show']) as { ifname: string }[]).some((l) => l.ifname === 'eth0'),
      false,
    );
  });

  test('calico-ipam alone: ADD twice returns the same address, DEL frees, VERSION', async () => {
    const run = (command: string) =>
      callPlugin({
        dir: plugins.dir,
        plugin: 'calico-ipam',
        host,
        command,
        containerId: 'ip1',
        netns: ns.add(`ip${command}${Math.random().toString(16).slice(2, 6)}`),
        config: conf(),
      });
    const a = await run('ADD');
    ok(a);
    const b = await run('ADD');
    ok(b);
    assert.deepEqual(a.json?.ips, b.json?.ips);
    ok(await run('CHECK'));
    ok(await run('DEL'));
    ok(await run('DEL'));
    assert.equal((await run('CHECK')).json?.code, 104);
    const v = await callPlugin({
      dir: plugins.dir,
      plugin: 'calico-ipam',
      host,
      command: 'VERSION',
      config: { cniVersion: '0.4.0' },
    });
    assert.deepEqual(v.json, {
      cniVersion: '0.4.0',
      supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'],
    });
  });
});
