// Many allocator PROCESSES on a few simulated hosts share one real store, with random
// releases and re-allocations, and some of them are killed with SIGKILL mid-run.
// Afterwards: no address was ever held twice (replaying every block write from the
// store's history, and cross-checking every allocator's own log), nothing leaked
// except what the killed processes left behind, which `check` reports exactly, every
// block's affinity is consistent and utilisation equals the live handles.
//
// Scale: IPAM_STRESS_PROCS (default 50), IPAM_STRESS_COUNT (addresses per process,
// default 200), IPAM_STRESS_KILLS (default PROCS / 5). Hosts are always 10.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { exited, spawnTracked, terminate } from '../testing/processes.js';
import { Block, IPAM_PREFIX, IpamClient, parseBlockKey } from './index.js';
import {
  type AllocatorRecord,
  bundleWorker,
  openTestStore,
  putPool,
  readAllocatorLog,
} from './testkit.js';

const PROCS = Number(process.env.IPAM_STRESS_PROCS ?? 50);
const COUNT = Number(process.env.IPAM_STRESS_COUNT ?? 200);
// Both stores run the full size. IPAM_STRESS_ETCD_COUNT sets etcd's count apart
// (e.g. smaller while iterating locally).
const ETCD_COUNT = Number(process.env.IPAM_STRESS_ETCD_COUNT ?? COUNT);
const KILLS = Number(process.env.IPAM_STRESS_KILLS ?? Math.floor(PROCS / 5));
const HOSTS = 10;
const hosts = Array.from({ length: HOSTS }, (_, i) => `host-${i}`);

interface Worker {
  id: number;
  child: ChildProcess;
  log: string;
  /** kill -9 once the log shows this many completed assignments; undefined: never */
  killAfter: number | undefined;
  killed: boolean;
  stderr: string;
}

function countOk(path: string): number {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('OK ')).length;
  } catch {
    return 0;
  }
}

/** Replays every write to the IPAM blocks since `from` and reports any address that
 * went from one handle straight to another (held twice) or went backwards in sequence. */
async function auditHistory(
  client: IpamClient,
  from: string,
  to: string,
): Promise<{ writes: number; everHeld: Map<string, Set<string>> }> {
  // Watch all of IPAM, not just blocks: the last revision may be a handle or affinity
  // write, and the loop stops on reaching it.
  const watch = client.backend.watch(IPAM_PREFIX, { fromRevision: from });
  const state = new Map<string, { seq: number; owners: (string | undefined)[] }>();
  const everHeld = new Map<string, Set<string>>();
  let writes = 0;
  const target = BigInt(to);
  try {
    if (BigInt(from) > target) return { writes, everHeld };
    for await (const ev of watch) {
      assert.notEqual(ev.type, 'resync-needed', 'the audit needs the full history');
      if (ev.type === 'resync-needed') break;
      if (parseBlockKey(ev.key) === undefined) {
        if (BigInt(ev.modRevision) >= target) break;
        continue;
      }
      if (ev.type === 'delete') {
        // Only an empty block may be deleted.
        const prev = state.get(ev.key);
        assert.ok(
          prev === undefined || prev.owners.every((o) => o === undefined),
          `non-empty block ${ev.key} deleted`,
        );
        state.delete(ev.key);
      } else {
        writes++;
        const block = Block.decode(ev.value, ev.key);
        const owners = block.data.allocations.map((_, o) =>
          block.isAllocated(o) ? (block.handleOf(o) ?? '') : undefined,
        );
        const prev = state.get(ev.key);
        if (prev !== undefined) {
          assert.ok(
            block.sequenceNumber > prev.seq,
            `${ev.key}: sequence number went from ${prev.seq} to ${block.sequenceNumber}`,
          );
          owners.forEach((owner, o) => {
            const before = prev.owners[o];
            if (before !== undefined && owner !== undefined && before !== owner) {
              assert.fail(
                `${block.maskedAt(o)} went from handle ${before} to ${owner} without being released: held twice`,
              );
            }
          });
        }
        owners.forEach((owner, o) => {
          if (owner === undefined) return;
          const ip = block.maskedAt(o).split('/')[0]!;
          const set = everHeld.get(owner) ?? new Set<string>();
          set.add(ip);
          everHeld.set(owner, set);
        });
        state.set(ev.key, { seq: block.sequenceNumber, owners });
      }
      if (BigInt(ev.modRevision) >= target) break;
    }
  } finally {
    await watch.close();
  }
  return { writes, everHeld };
}

for (const kind of ['embedded', 'etcdv3'] as const) {
  const count = kind === 'etcdv3' ? ETCD_COUNT : COUNT;
  test(`${kind}: ${PROCS} allocator processes on ${HOSTS} hosts, ${count} addresses each, ${KILLS} killed with SIGKILL`, async (t) => {
    const store = await openTestStore(kind);
    const logs = mkdtempSync(join(tmpdir(), 'ipam-stress-'));
    const workers: Worker[] = [];
    let bundle: { path: string; cleanup(): void } | undefined;
    t.after(async () => {
      await Promise.all(workers.map((w) => terminate(w.child, 'SIGKILL')));
      await store.close();
      bundle?.cleanup();
      rmSync(logs, { recursive: true, force: true });
    });
    bundle = await bundleWorker();
    const ipam = new IpamClient({ backend: store.backend });
    await putPool(store.backend, { name: 'stress-pool', cidr: '10.64.0.0/18' });
    const startRev = await store.backend.currentRevision();

    // Victims die after a random number of completed assignments; the kill then lands
    // wherever that process happens to be (mid-claim, mid-release, between calls).
    const victims = new Set<number>();
    while (victims.size < Math.min(KILLS, PROCS)) victims.add(Math.floor(Math.random() * PROCS));
    for (let id = 0; id < PROCS; id++) {
      const log = join(logs, `w${id}.log`);
      const cfg = {
        spec: store.spec,
        node: hosts[id % HOSTS],
        id,
        count: count,
        releaseProbability: 0.3,
        seed: 1000 + id,
        log,
      };
      const child = spawnTracked(process.execPath, [bundle.path], {
        env: { ...process.env, IPAM_WORKER: JSON.stringify(cfg) },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const w: Worker = {
        id,
        child,
        log,
        killAfter: victims.has(id) ? 1 + Math.floor(Math.random() * (count - 1)) : undefined,
        killed: false,
        stderr: '',
      };
      child.stderr?.on('data', (d: Buffer) => {
        w.stderr = (w.stderr + d.toString()).slice(-2000);
      });
      workers.push(w);
    }
    const allExited = Promise.all(workers.map((w) => exited(w.child)));
    let running = true;
    void allExited.then(() => {
      running = false;
    });
    while (running) {
      for (const w of workers) {
        if (w.killAfter === undefined || w.killed || w.child.exitCode !== null) continue;
        if (countOk(w.log) >= w.killAfter && w.child.pid !== undefined) {
          process.kill(w.child.pid, 'SIGKILL');
          w.killed = true;
        }
      }
      await sleep(20);
    }
    await allExited;
    const endRev = await store.backend.currentRevision();

    // Every allocator's own account.
    const records = new Map<number, AllocatorRecord>();
    for (const w of workers) {
      const rec = readAllocatorLog(w.log);
      records.set(w.id, rec);
      if (!w.killed) {
        assert.equal(
          w.child.exitCode,
          0,
          `allocator ${w.id} failed: ${readFileSync(w.log, 'utf8')
            .split('\n')
            .filter((l) => l.startsWith('ERR'))
            .join(' ')} ${w.stderr}`,
        );
        assert.ok(rec.done, `allocator ${w.id} did not finish`);
        assert.equal(rec.assigned, count);
      } else {
        assert.equal(w.child.signalCode, 'SIGKILL');
      }
    }
    const killed = workers.filter((w) => w.killed).map((w) => w.id);
    const owner = (handle: string) => Number(/^w(\d+)-/.exec(handle)?.[1] ?? -1);

    // No address in two allocators' records at once.
    const recordedIp = new Map<string, string>();
    for (const [, rec] of records) {
      for (const [handle, ip] of rec.held) {
        assert.equal(
          recordedIp.get(ip),
          undefined,
          `${ip} is held by both ${recordedIp.get(ip)} and ${handle}`,
        );
        recordedIp.set(ip, handle);
      }
    }

    // The blocks agree with the records.
    const snap = await ipam.snapshot();
    const stored = new Map<string, string[]>();
    for (const { block } of snap.blocks) {
      for (const o of block.allocatedOrdinals()) {
        const h = block.handleOf(o) ?? '';
        stored.set(h, [...(stored.get(h) ?? []), block.maskedAt(o).split('/')[0]!]);
      }
    }
    const survivorsHeld = new Map<string, string[]>();
    for (const w of workers) {
      if (w.killed) continue;
      for (const [handle, ip] of records.get(w.id)!.held) {
        survivorsHeld.set(handle, [ip]);
        assert.deepEqual(stored.get(handle), [ip], `allocator ${w.id} holds ${ip} as ${handle}`);
      }
    }
    const leftBehind = new Set<string>();
    for (const [handle, ips] of stored) {
      assert.equal(ips.length, 1, `${handle} holds ${ips.join(', ')}`);
      const id = owner(handle);
      const rec = records.get(id);
      assert.ok(rec, `allocation under unknown handle ${handle}`);
      if (survivorsHeld.has(handle)) continue;
      assert.ok(killed.includes(id), `${handle} of surviving allocator ${id} leaked ${ips[0]}`);
      assert.ok(
        rec.held.get(handle) === ips[0] || rec.inFlightAssign === handle,
        `${handle} holds ${ips[0]} but allocator ${id} neither recorded it nor had it in flight`,
      );
      leftBehind.add(handle);
    }
    for (const id of killed) {
      const rec = records.get(id)!;
      for (const handle of rec.held.keys()) {
        if (handle !== rec.inFlightRelease)
          assert.ok(leftBehind.has(handle), `${handle} of killed ${id} vanished`);
      }
    }

    // check() names exactly what the killed allocators left behind, and nothing else.
    const report = await ipam.check({
      endpointsByHandle: Object.fromEntries(survivorsHeld),
      knownNodes: hosts,
    });
    assert.deepEqual(report.leakedHandles.map((l) => l.handleId).sort(), [...leftBehind].sort());
    assert.deepEqual(report.missingAllocations, []);
    assert.deepEqual(report.affinityProblems, [], 'every block agrees with its affinity');
    assert.deepEqual(report.handleMismatches, []);
    assert.deepEqual(report.corruptKeys, []);

    // Utilisation equals the number of live handles.
    const inUse = (await ipam.utilisation()).reduce((n, p) => n + p.inUse, 0);
    assert.equal(inUse, survivorsHeld.size + leftBehind.size);
    assert.equal(snap.handles.length, survivorsHeld.size + leftBehind.size);

    // The whole history: no address ever went from one handle to another, and every
    // assignment an allocator logged really was in the store.
    const audit = await auditHistory(ipam, (BigInt(startRev) + 1n).toString(), endRev);
    assert.ok(audit.writes > 0);
    for (const w of workers) {
      const text = readFileSync(w.log, 'utf8');
      for (const line of text.split('\n')) {
        const [op, handle, ip] = line.split(' ');
        if (op !== 'OK') continue;
        assert.ok(
          audit.everHeld.get(handle!)?.has(ip!),
          `${handle} logged ${ip} but the store never held it`,
        );
      }
    }

    // Garbage-collect the leaks as kube-controllers would; the store is then clean.
    for (const handle of leftBehind) await ipam.releaseByHandle(handle);
    const clean = await ipam.check({
      endpointsByHandle: Object.fromEntries(survivorsHeld),
      knownNodes: hosts,
    });
    assert.equal(clean.ok, true, JSON.stringify(clean.summary));
    t.diagnostic(
      `${kind}: ${audit.writes} block writes audited, ${killed.length} killed, ${leftBehind.size} handles left behind, ${survivorsHeld.size} live`,
    );
  });
}
