/**
 * Test and benchmark support for IPAM (never imported by production code): opening a
 * real backend of either kind, seeding pools, wiping the IPAM keys, and reading the
 * allocator processes' logs.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Backend, EmbeddedBackend, openEtcdBackend } from '../datastore/index.js';
import { type EtcdHandle, startEtcd } from '../testing/etcd.js';
import { POOL_PREFIX, RESERVATION_PREFIX } from './keys.js';
import { encodePool, encodeReservation, type PoolUse } from './pools.js';

const repoRoot = new URL('../../', import.meta.url).pathname;

/**
 * Bundles the allocator worker into one file in a temp dir (with a node_modules link
 * for the native and runtime-loading packages left external). Dozens of allocator
 * processes then start in tens of milliseconds each instead of compiling TypeScript
 * one by one on a shared 2-core machine.
 */
export async function bundleWorker(): Promise<{ path: string; cleanup(): void }> {
  const { build } = await import('esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'ipam-worker-'));
  try {
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const path = join(dir, 'allocator-worker.mjs');
    await build({
      entryPoints: [join(repoRoot, 'src/ipam/allocator-worker.ts')],
      outfile: path,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      banner: {
        js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);",
      },
      external: ['better-sqlite3', 'etcd3', 'esbuild'],
      logLevel: 'error',
    });
    return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** How an allocator process reaches the store (passed as JSON in its environment). */
export type BackendSpec =
  | { type: 'etcdv3'; endpoints: string[] }
  | { type: 'embedded'; path: string };

export async function openSpec(spec: BackendSpec): Promise<Backend> {
  // A shared 2-core CI machine running dozens of allocators can stall a request for
  // many seconds; a generous deadline keeps "slow" from being reported as "down".
  if (spec.type === 'etcdv3') {
    return openEtcdBackend({ endpoints: spec.endpoints, requestTimeoutMs: 60_000 });
  }
  // History is replayed after a run to audit every block write, so keep all of it.
  return new EmbeddedBackend({ path: spec.path, historyRevisions: 1_000_000_000 });
}

/** A real store for one test file: etcd on a free loopback port, or a temp SQLite file. */
export interface TestStore {
  spec: BackendSpec;
  backend: Backend;
  /** removes every key under /calico/ so the next case starts empty */
  wipe(): Promise<void>;
  close(): Promise<void>;
}

export async function openTestStore(kind: 'etcdv3' | 'embedded'): Promise<TestStore> {
  let etcd: EtcdHandle | undefined;
  let dir: string | undefined;
  let spec: BackendSpec;
  if (kind === 'etcdv3') {
    etcd = await startEtcd();
    spec = { type: 'etcdv3', endpoints: etcd.endpoints };
  } else {
    dir = mkdtempSync(join(tmpdir(), 'ipam-test-'));
    spec = { type: 'embedded', path: join(dir, 'calico.db') };
  }
  let backend: Backend;
  try {
    backend = await openSpec(spec);
  } catch (err) {
    await etcd?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    spec,
    backend,
    async wipe() {
      const { items } = await backend.list('/calico/');
      for (const kv of items) await backend.delete(kv.key);
    },
    async close() {
      try {
        await backend.close();
      } finally {
        await etcd?.stop();
        if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export async function putPool(
  backend: Backend,
  pool: {
    name: string;
    cidr: string;
    blockSize?: number;
    disabled?: boolean;
    nodeSelector?: string;
    allowedUses?: PoolUse[];
  },
): Promise<void> {
  await backend.put(POOL_PREFIX + pool.name, encodePool(pool));
}

export async function putReservation(
  backend: Backend,
  name: string,
  cidrs: string[],
): Promise<void> {
  await backend.put(RESERVATION_PREFIX + name, encodeReservation(name, cidrs));
}

/**
 * One allocator's log, one line per event, appended synchronously before and after
 * each datastore call so a kill -9 leaves an exact record of what was in flight:
 *   A <handle>            about to auto-assign
 *   OK <handle> <ip> <seq> assigned
 *   R <handle>            about to release
 *   RD <handle>           released
 *   X <handle>            the assign failed and was rolled back by releaseByHandle
 *   DONE                  finished normally
 */
export interface AllocatorRecord {
  /** handle → address it holds, per this allocator's own record */
  held: Map<string, string>;
  /** a handle whose auto-assign may or may not have landed (killed in between) */
  inFlightAssign: string | undefined;
  /** a handle whose release may or may not have landed (killed in between) */
  inFlightRelease: string | undefined;
  assigned: number;
  released: number;
  done: boolean;
}

export function readAllocatorLog(path: string): AllocatorRecord {
  const rec: AllocatorRecord = {
    held: new Map(),
    inFlightAssign: undefined,
    inFlightRelease: undefined,
    assigned: 0,
    released: 0,
    done: false,
  };
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return rec;
  }
  for (const line of text.split('\n')) {
    const [op, handle, ip] = line.split(' ');
    if (op === 'A') rec.inFlightAssign = handle;
    else if (op === 'OK') {
      rec.held.set(handle!, ip!);
      rec.inFlightAssign = undefined;
      rec.assigned++;
    } else if (op === 'R') rec.inFlightRelease = handle;
    else if (op === 'RD') {
      rec.held.delete(handle!);
      rec.inFlightRelease = undefined;
      rec.released++;
    } else if (op === 'DONE') rec.done = true;
  }
  return rec;
}
