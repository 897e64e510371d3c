/**
 * One allocator process for the concurrency tests and the benchmark: auto-assigns
 * `count` IPv4 addresses (one handle each) on a simulated node, releasing a random held
 * handle after an assignment with probability `releaseProbability`. Every step is
 * logged (see readAllocatorLog) with a synchronous append, so a kill -9 at any point
 * leaves an exact account of what this process held and what was in flight.
 *
 *   IPAM_WORKER='{"spec":…,"node":"host-3","id":17,"count":200,…}' node allocator-worker.mjs
 */
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { IpamClient } from './client.js';
import { type BackendSpec, openSpec } from './testkit.js';

interface WorkerConfig {
  spec: BackendSpec;
  node: string;
  id: number;
  count: number;
  releaseProbability: number;
  seed: number;
  log: string;
  /** benchmark mode: print READY on stdout and start only when stdin says go */
  waitForGo?: boolean;
}

const cfg = JSON.parse(process.env.IPAM_WORKER ?? '') as WorkerConfig;

// A seeded generator so a failing run can be replayed with the same choices.
let state = cfg.seed >>> 0 || 1;
function rand(): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 4294967296;
}

function log(line: string): void {
  appendFileSync(cfg.log, `${line}\n`);
}

function describe(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return `${typeof code === 'string' ? `${code} ` : ''}${err instanceof Error ? err.message : String(err)}`.replace(
    /\n/g,
    ' ',
  );
}

/** Only an unreachable or overloaded store is worth retrying; anything else is a bug. */
function transient(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'UNAVAILABLE' || code === 'TOO_MANY_RETRIES';
}

async function persist<T>(what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!transient(err) || attempt >= 30) throw err;
      log(`# retry ${what}: ${describe(err)}`);
      await sleep(100 * attempt);
    }
  }
}

const backend = await openSpec(cfg.spec);
const ipam = new IpamClient({ backend, resourceCacheMs: 1000 });
const held: { handle: string; ip: string; seq: number }[] = [];
if (cfg.waitForGo === true) {
  // One cheap read first so connection setup is not part of the measured run.
  await ipam.getConfig();
  process.stdout.write('READY\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  process.stdin.pause();
}
const started = Date.now();
try {
  for (let i = 0; i < cfg.count; i++) {
    const handle = `w${cfg.id}-${i}`;
    let got: { ip: string; sequenceNumber: number } | undefined;
    while (got === undefined) {
      log(`A ${handle}`);
      try {
        const res = await ipam.autoAssign({
          node: cfg.node,
          handleId: handle,
          num4: 1,
          attributes: { pod: handle, namespace: 'ipam-test' },
        });
        got = res.ipv4[0]!;
      } catch (err) {
        if (!transient(err)) throw err;
        // What a CNI plugin does after a failed ADD: release whatever the handle holds
        // (the failed call may have landed before its reply was lost), then try again.
        log(`# assign failed: ${describe(err)}`);
        await persist(`rollback ${handle}`, () => ipam.releaseByHandle(handle));
        log(`X ${handle}`);
      }
    }
    log(`OK ${handle} ${got.ip} ${got.sequenceNumber}`);
    held.push({ handle, ip: got.ip, seq: got.sequenceNumber });
    if (rand() < cfg.releaseProbability) {
      const victim = held.splice(Math.floor(rand() * held.length), 1)[0]!;
      log(`R ${victim.handle}`);
      // Alternate the two release paths; both must keep the handle index exact.
      if (rand() < 0.5)
        await persist(`release ${victim.handle}`, () => ipam.releaseByHandle(victim.handle));
      else {
        const r = await persist(`release ${victim.ip}`, () =>
          ipam.releaseIps([{ ip: victim.ip, handleId: victim.handle, sequenceNumber: victim.seq }]),
        );
        // notAllocated is fine only when an earlier attempt of this release landed.
        if (r.stale.length > 0)
          throw new Error(`release of ${victim.ip} was stale: ${JSON.stringify(r)}`);
      }
      log(`RD ${victim.handle}`);
    }
  }
  log(`T ${started} ${Date.now()}`);
  log('DONE');
} catch (err) {
  log(`ERR ${describe(err)}`);
  process.exitCode = 1;
} finally {
  await backend.close();
}
