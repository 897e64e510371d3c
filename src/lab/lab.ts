// The lab's operations: up, workload add/del, route sync, status, down. Every step that
// creates something records it in the state file first, so `down` can undo a run that
// died half way.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pidAlive, run } from './exec.js';
import { executable, selfArgv } from './paths.js';
import { probeArgv } from './probe.js';
import { killPids, markedPids, sleep, spawnDetached } from './processes.js';
import type { Progress } from './progress.js';
import {
  type LabHost,
  type LabState,
  type LabWorkload,
  loadState,
  newState,
  type PortSpec,
  saveState,
} from './state.js';
import { blockAffinities, datastoreEnv, ensureBgp, ensurePool, withStore } from './store.js';
import {
  birdConfig,
  createHost,
  createOutside,
  createRouter,
  deleteNamespace,
  fabricAddresses,
  listNamespaces,
  routerRoutes,
  workloadInterfaceName,
} from './topology.js';
import { addWorkloadNetwork, deleteWorkloadNetwork } from './workloads.js';

export const DEFAULT_POOL = '10.251.0.0/16';
export const DEFAULT_ROLES = ['frontend', 'backend', 'db'] as const;
export const DEFAULT_PORTS: PortSpec[] = [
  { name: 'http', port: 80, protocol: 'TCP' },
  { name: 'echo', port: 7, protocol: 'UDP' },
];

export class LabError extends Error {
  constructor(
    readonly code: 'LAB_EXISTS' | 'NO_LAB' | 'NOT_FOUND' | 'AGENT_FAILED' | 'INVALID',
    message: string,
  ) {
    super(message);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject()));
    });
  });
}

export function requireState(dir: string): LabState {
  const s = loadState(dir);
  if (s === undefined) throw new LabError('NO_LAB', `No lab in ${dir} (run: calico-lab up)`);
  return s;
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function startAgent(state: LabState, host: LabHost): Promise<void> {
  const agent = executable('calico-node');
  if (agent === undefined) {
    throw new LabError('AGENT_FAILED', 'calico-node is not built (run: npm run build)');
  }
  host.agentPid = spawnDetached(agent, state.id, join(state.dir, `${host.name}.calico-node.log`), {
    ...datastoreEnv(state.dataDir),
    NODENAME: host.name,
    IP: `${host.fabricIp}/24`,
    IP6: 'none',
    CALICO_NETNS: host.ns,
    NO_DEFAULT_POOLS: 'true',
    CALICO_NETWORKING_BACKEND: 'builtin',
    CALICO_BGP_STATUS_FILE: bgpStatusFile(state, host),
    FELIX_HEALTHHOST: '127.0.0.1',
    FELIX_HEALTHPORT: String(host.healthPort),
    FELIX_PROMETHEUSMETRICSHOST: '127.0.0.1',
    FELIX_PROMETHEUSMETRICSPORT: String(host.metricsPort),
    FELIX_LOGSEVERITYSCREEN: 'info',
    // keep endpoint status files inside the lab's own directory, so `down` removes them too
    FELIX_ENDPOINTSTATUSPATHPREFIX: state.dir,
  });
  saveState(state);
}

/** Where host's calico-node writes its BGP peers (`calicoctl node status --status-file`). */
export function bgpStatusFile(state: LabState, host: LabHost): string {
  return join(state.dir, `${host.name}.bgp-status.json`);
}

export function birdSocket(state: LabState): string {
  return join(state.dir, 'router.bird.ctl');
}

/** BIRD on the router, peering with every host's calico-node. */
async function startBird(state: LabState): Promise<void> {
  const conf = join(state.dir, 'router.bird.conf');
  writeFileSync(
    conf,
    birdConfig(
      state.hosts.map((h) => h.fabricIp),
      join(state.dir, 'router.bird.log'),
    ),
  );
  const sock = birdSocket(state);
  state.birdPid = spawnDetached(
    [
      'ip',
      'netns',
      'exec',
      state.router,
      'bird',
      '-f',
      '-c',
      conf,
      '-s',
      sock,
      '-P',
      join(state.dir, 'router.bird.pid'),
    ],
    state.id,
    join(state.dir, 'router.bird.out'),
  );
  saveState(state);
  for (let i = 0; i < 100; i++) {
    const r = await run(['birdc', '-s', sock, 'show', 'status'], { allowFail: true });
    if (r.code === 0 && r.stdout.includes('Daemon is up')) return;
    if (!pidAlive(state.birdPid)) break;
    await sleep(100);
  }
  throw new LabError(
    'AGENT_FAILED',
    `BIRD on the router did not start:\n${tail(join(state.dir, 'router.bird.out'))}`,
  );
}

async function waitReady(state: LabState, host: LabHost, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const log = join(state.dir, `${host.name}.calico-node.log`);
  while (Date.now() < deadline) {
    if (host.agentPid === undefined || !pidAlive(host.agentPid)) {
      throw new LabError('AGENT_FAILED', `calico-node for ${host.name} exited:\n${tail(log)}`);
    }
    try {
      const r = await fetch(`http://127.0.0.1:${host.healthPort}/readiness`, {
        signal: AbortSignal.timeout(1000),
      });
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new LabError(
    'AGENT_FAILED',
    `calico-node for ${host.name} not ready after ${timeoutMs} ms:\n${tail(log)}`,
  );
}

export interface UpOptions {
  dir: string;
  hosts: number;
  workloads: number;
  progress: Progress;
  agentTimeoutMs?: number;
}

export async function up(opts: UpOptions): Promise<LabState> {
  if (loadState(opts.dir) !== undefined) {
    throw new LabError('LAB_EXISTS', `A lab is already up in ${opts.dir} (run: calico-lab down)`);
  }
  if (existsSync(opts.dir) && readdirSync(opts.dir).length > 0) {
    throw new LabError(
      'INVALID',
      `${opts.dir} is not empty and holds no lab; choose another CALICO_LAB_DIR`,
    );
  }
  if (opts.hosts < 1 || opts.hosts > 200 || opts.workloads < 0 || opts.workloads > 50) {
    throw new LabError('INVALID', 'Use --hosts from 1 to 200 and --workloads from 0 to 50');
  }
  const p = opts.progress;
  const state = newState(opts.dir, DEFAULT_POOL);
  mkdirSync(state.dataDir, { recursive: true });
  saveState(state);

  p.step(`fabric: router namespace ${state.router}, outside namespace behind it`);
  await createRouter(state.router);
  state.outside = `${state.prefix}outside`;
  saveState(state);
  await createOutside(state.router, state.outside);
  for (let i = 1; i <= opts.hosts; i++) {
    const { routerIp, hostIp } = fabricAddresses(i);
    const host: LabHost = {
      name: `host${i}`,
      ns: `${state.prefix}host${i}`,
      fabricIp: hostIp,
      routerIp,
      healthPort: await freePort(),
      metricsPort: await freePort(),
    };
    state.hosts.push(host);
    saveState(state);
    p.step(`host ${host.name}: namespace ${host.ns}, ${hostIp}/24 to the router`);
    await createHost(state.router, host.ns, i);
  }
  p.step(`datastore: embedded in ${state.dataDir}, IP pool ${state.poolCidr}`);
  await withStore(state.dataDir, async (client) => {
    await ensurePool(client, state.poolCidr);
    await ensureBgp(client);
  });
  p.step('router: BIRD peering with every host (eBGP, AS 65000 ↔ 64512)');
  await startBird(state);
  for (const host of state.hosts) {
    p.step(`host ${host.name}: starting calico-node`);
    await startAgent(state, host);
  }
  for (const host of state.hosts) {
    p.step(`host ${host.name}: waiting for calico-node to be ready`);
    await waitReady(state, host, opts.agentTimeoutMs ?? 120_000);
  }
  // Hosts are independent, so each round adds one workload on every host at once.
  for (let j = 0; j < opts.workloads; j++) {
    await Promise.all(
      state.hosts.map(async (host, i) => {
        const role = DEFAULT_ROLES[j % DEFAULT_ROLES.length] as string;
        const round = Math.floor(j / DEFAULT_ROLES.length);
        const name = `${role}-${i + 1}${round > 0 ? `-${round + 1}` : ''}`;
        p.step(`workload demo/${name} on ${host.name}`);
        await addWorkload(state, {
          host: host.name,
          namespace: 'demo',
          name,
          labels: { app: role },
          ports: DEFAULT_PORTS,
          syncRoutes: false,
        });
      }),
    );
  }
  p.step('cross-host routes: waiting for every block to reach the router by BGP');
  await waitRoutes(state);
  return state;
}

export interface AddWorkloadOptions {
  host: string;
  namespace: string;
  name: string;
  labels: Record<string, string>;
  ports: PortSpec[];
  syncRoutes?: boolean;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export async function addWorkload(state: LabState, o: AddWorkloadOptions): Promise<LabWorkload> {
  const host = state.hosts.find((h) => h.name === o.host);
  if (host === undefined) {
    throw new LabError(
      'NOT_FOUND',
      `No host "${o.host}" (hosts: ${state.hosts.map((h) => h.name).join(', ')})`,
    );
  }
  if (!DNS_LABEL.test(o.namespace) || !DNS_LABEL.test(o.name)) {
    throw new LabError(
      'INVALID',
      `Namespace and name must be DNS labels: "${o.namespace}/${o.name}"`,
    );
  }
  if (state.workloads.some((w) => w.namespace === o.namespace && w.name === o.name)) {
    throw new LabError('LAB_EXISTS', `Workload ${o.namespace}/${o.name} already exists`);
  }
  const wl: LabWorkload = {
    namespace: o.namespace,
    name: o.name,
    host: host.name,
    ns: `${state.prefix}w${randomBytes(4).toString('hex')}`,
    containerId: randomBytes(16).toString('hex'),
    iface: workloadInterfaceName(o.namespace, o.name),
    labels: o.labels,
    ports: o.ports,
  };
  state.workloads.push(wl);
  saveState(state);
  await run(['ip', 'netns', 'add', wl.ns]);
  await run(['ip', '-n', wl.ns, 'link', 'set', 'lo', 'up']);
  await addWorkloadNetwork(state, host, wl);
  saveState(state);
  if (wl.ports.length > 0) {
    const spec = wl.ports
      .map(
        (p) => `${p.name !== undefined ? `${p.name}=` : ''}${p.port}/${p.protocol.toLowerCase()}`,
      )
      .join(',');
    wl.listenerPid = spawnDetached(
      ['ip', 'netns', 'exec', wl.ns, ...selfArgv(['_listen', '--ports', spec])],
      state.id,
      join(state.dir, `${wl.namespace}.${wl.name}.listener.log`),
    );
    saveState(state);
    await waitListening(wl);
  }
  if (o.syncRoutes !== false) await waitRoutes(state);
  return wl;
}

async function waitListening(wl: LabWorkload): Promise<void> {
  const first = wl.ports[0] as PortSpec;
  const proto = first.protocol === 'TCP' ? 'tcp' : 'udp';
  for (let i = 0; i < 150; i++) {
    const r = await run(
      ['ip', 'netns', 'exec', wl.ns, ...probeArgv(proto, '127.0.0.1', first.port, 1)],
      {
        allowFail: true,
      },
    );
    if (r.code === 0) return;
    if (wl.listenerPid !== undefined && !pidAlive(wl.listenerPid)) break;
    await sleep(100);
  }
  throw new LabError('INVALID', `Listeners in ${wl.namespace}/${wl.name} did not start`);
}

export function findWorkload(state: LabState, ref: string): LabWorkload {
  const [ns, name] = ref.includes('/') ? ref.split('/', 2) : ['demo', ref];
  const wl = state.workloads.find((w) => w.namespace === ns && w.name === name);
  if (wl === undefined) {
    throw new LabError('NOT_FOUND', `No workload ${ns}/${name} (see: calico-lab status)`);
  }
  return wl;
}

export async function deleteWorkload(state: LabState, ref: string): Promise<void> {
  const wl = findWorkload(state, ref);
  const host = state.hosts.find((h) => h.name === wl.host) as LabHost;
  if (wl.listenerPid !== undefined) await killPids([wl.listenerPid]);
  if (wl.ip !== undefined) await deleteWorkloadNetwork(state, host, wl);
  await deleteNamespace(wl.ns);
  state.workloads = state.workloads.filter((w) => w !== wl);
  saveState(state);
}

/**
 * Waits until the router has a BGP route for every block affine to a lab host, via that
 * host (anycast and other routes may add next hops); returns the router's BGP routes.
 */
export async function waitRoutes(
  state: LabState,
  timeoutMs = 60_000,
): Promise<Map<string, string[]>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const affinities = await withStore(state.dataDir, (_c, backend) => blockAffinities(backend));
    const routes = await routerRoutes(state.router);
    const missing: string[] = [];
    for (const [block, node] of affinities) {
      const host = state.hosts.find((h) => h.name === node);
      if (host !== undefined && !(routes.get(block) ?? []).includes(host.fabricIp))
        missing.push(`${block} via ${host.fabricIp} (${node})`);
    }
    if (missing.length === 0) return routes;
    if (Date.now() > deadline)
      throw new LabError(
        'AGENT_FAILED',
        `The router has no BGP route for ${missing.join(', ')} after ${timeoutMs} ms (see ${join(state.dir, 'router.bird.log')} and the host logs)`,
      );
    await sleep(200);
  }
}

export interface LabStatus {
  dir: string;
  prefix: string;
  router: string;
  /** namespace behind the router (10.249.0.2), routes only */
  outside?: string;
  /** BIRD's control socket on the router: `birdc -s <socket> show route` */
  birdSocket: string;
  hosts: {
    name: string;
    namespace: string;
    address: string;
    agentPid?: number;
    agentRunning: boolean;
    /** for `calicoctl node status --status-file` */
    bgpStatusFile: string;
  }[];
  workloads: {
    namespace: string;
    name: string;
    host: string;
    address?: string;
    interface: string;
    netns: string;
    labels: Record<string, string>;
    ports: string[];
    plumbing?: string;
  }[];
  env: Record<string, string>;
}

export function status(state: LabState): LabStatus {
  return {
    dir: state.dir,
    prefix: state.prefix,
    router: state.router,
    ...(state.outside !== undefined ? { outside: state.outside } : {}),
    birdSocket: birdSocket(state),
    hosts: state.hosts.map((h) => ({
      name: h.name,
      namespace: h.ns,
      address: h.fabricIp,
      ...(h.agentPid !== undefined ? { agentPid: h.agentPid } : {}),
      agentRunning: h.agentPid !== undefined && pidAlive(h.agentPid),
      bgpStatusFile: bgpStatusFile(state, h),
    })),
    workloads: state.workloads.map((w) => ({
      namespace: w.namespace,
      name: w.name,
      host: w.host,
      ...(w.ip !== undefined ? { address: w.ip } : {}),
      interface: w.iface,
      netns: w.ns,
      labels: w.labels,
      ports: w.ports.map(
        (p) => `${p.name ? `${p.name}=` : ''}${p.port}/${p.protocol.toLowerCase()}`,
      ),
      ...(w.via !== undefined ? { plumbing: w.via } : {}),
    })),
    env: datastoreEnv(state.dataDir),
  };
}

/**
 * Removes everything the lab made: its processes (recorded pids and any process that
 * carries the lab's marker), every namespace with its prefix, and its directory.
 */
export async function down(dir: string): Promise<{ processes: number; namespaces: number }> {
  const state = loadState(dir);
  if (state === undefined) {
    if (existsSync(dir) && readdirSync(dir).length === 0)
      rmSync(dir, { recursive: true, force: true });
    return { processes: 0, namespaces: 0 };
  }
  const recorded = [
    state.birdPid,
    ...state.hosts.map((h) => h.agentPid),
    ...state.workloads.map((w) => w.listenerPid),
  ].filter((p): p is number => p !== undefined);
  const pids = [...new Set([...recorded.filter(pidAlive), ...markedPids(state.id)])];
  await killPids(pids);
  const namespaces = (await listNamespaces()).filter((n) => n.startsWith(state.prefix));
  for (const ns of namespaces) await deleteNamespace(ns);
  rmSync(state.dir, { recursive: true, force: true });
  return { processes: pids.length, namespaces: namespaces.length };
}
