// The lab's state file: written before anything is created and after every change, so
// `down` can find what an earlier run made even if that run crashed half way.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LabHost {
  /** the Calico node name */
  name: string;
  ns: string;
  /** this host's address on its link to the router */
  fabricIp: string;
  /** the router's address on the same link */
  routerIp: string;
  healthPort: number;
  metricsPort: number;
  agentPid?: number;
}

export interface PortSpec {
  name?: string;
  port: number;
  protocol: 'TCP' | 'UDP';
}

export interface LabWorkload {
  namespace: string;
  name: string;
  host: string;
  ns: string;
  containerId: string;
  iface: string;
  ip?: string;
  labels: Record<string, string>;
  ports: PortSpec[];
  listenerPid?: number;
  /** how it was plumbed: through the CNI plugin, or by the lab itself */
  via?: 'cni' | 'lab';
}

export interface LabState {
  id: string;
  /** every namespace this lab creates starts with it */
  prefix: string;
  dir: string;
  dataDir: string;
  poolCidr: string;
  router: string;
  /** a namespace behind the router that reaches workloads by plain routes */
  outside?: string;
  /** BIRD on the router */
  birdPid?: number;
  hosts: LabHost[];
  workloads: LabWorkload[];
  /** processes started but not owned by a host or workload entry (none today) */
  createdAt: string;
}

export function labDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CALICO_LAB_DIR || '/var/run/calico-lab';
}

export function statePath(dir: string): string {
  return join(dir, 'state.json');
}

export function loadState(dir: string): LabState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(dir), 'utf8')) as LabState;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`Cannot read lab state ${statePath(dir)}: ${String(e)}`);
  }
}

/** Atomic replace, so a crash mid-write never leaves a state file `down` cannot parse. */
export function saveState(state: LabState): void {
  mkdirSync(state.dir, { recursive: true });
  const tmp = `${statePath(state.dir)}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, statePath(state.dir));
}

export function newState(dir: string, poolCidr: string): LabState {
  const id = randomBytes(3).toString('hex');
  return {
    id,
    prefix: `cl${id}-`,
    dir,
    dataDir: join(dir, 'datastore'),
    poolCidr,
    router: `cl${id}-router`,
    hosts: [],
    workloads: [],
    createdAt: new Date().toISOString(),
  };
}
