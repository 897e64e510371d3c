/** `calicoctl ipam show | check | release | configure`, on the IPAM component's client. */
import { writeFileSync } from 'node:fs';
import type { WorkloadEndpoint } from '../api/index.js';
import { IpamClient, IpamError } from '../ipam/index.js';
import { formatIp } from '../net/index.js';
import { withStore } from './context.js';
import { CtlError } from './errors.js';
import { formatBorderedTable } from './table.js';

function pct(part: number, whole: number): string {
  return whole === 0 ? '0%' : `${Math.round((part / whole) * 100)}%`;
}

function write(text: string): void {
  process.stdout.write(text);
}

function ipamFailure(err: unknown): never {
  if (err instanceof IpamError) throw new CtlError(err.message);
  throw err;
}

export interface ShowOptions {
  config?: string;
  ip?: string;
  showBlocks?: boolean;
  showBorrowed?: boolean;
  showConfiguration?: boolean;
}

export async function show(opts: ShowOptions): Promise<void> {
  await withStore(opts.config, async ({ backend }) => {
    const ipam = new IpamClient({ backend });
    try {
      if (opts.ip !== undefined) {
        const info = await ipam.ipInfo(opts.ip);
        if (info.pool === null) {
          write(`IP ${info.ip} is not in any configured pool\n`);
        } else if (!info.allocated) {
          write(`IP ${info.ip} is not assigned${info.reserved ? ' (it is reserved)' : ''}\n`);
        } else {
          const lines = [
            `IP ${info.ip} is in use`,
            `Pool: ${info.pool} (${info.poolCidr})`,
            `Block: ${info.block} (affinity ${info.blockAffinity ?? 'none'})${info.borrowed ? ', borrowed' : ''}`,
            `Handle: ${info.handleId ?? '(none)'}`,
            'Attributes:',
            ...Object.entries(info.attributes).map(([k, v]) => `  ${k}: ${v}`),
          ];
          write(`${lines.join('\n')}\n`);
        }
        return;
      }
      if (opts.showConfiguration) {
        const c = await ipam.getConfig();
        write(
          formatBorderedTable(
            ['PROPERTY', 'VALUE'],
            [
              ['StrictAffinity', String(c.strictAffinity)],
              ['AutoAllocateBlocks', String(c.autoAllocateBlocks)],
              ['MaxBlocksPerHost', String(c.maxBlocksPerHost)],
            ],
          ),
        );
        return;
      }
      if (opts.showBorrowed) {
        const rows = (await ipam.listBorrowed()).map((b) => [
          b.ip,
          b.node,
          b.block,
          b.blockOwner ?? '(none)',
          b.type ?? '',
          b.handleId ?? '',
        ]);
        write(
          formatBorderedTable(
            ['IP', 'BORROWING-NODE', 'BLOCK', 'BLOCK OWNER', 'TYPE', 'HANDLE'],
            rows,
          ),
        );
        return;
      }
      const rows: string[][] = [];
      for (const p of await ipam.utilisation()) {
        const usable = p.size - p.reserved;
        rows.push([
          'IP Pool',
          p.cidr,
          String(p.size),
          `${p.inUse} (${pct(p.inUse, usable)})`,
          `${p.free} (${pct(p.free, usable)})`,
        ]);
        if (opts.showBlocks) {
          for (const b of p.blocks) {
            const u = b.size - b.reserved;
            rows.push([
              'Block',
              b.cidr,
              String(b.size),
              `${b.inUse} (${pct(b.inUse, u)})`,
              `${b.free} (${pct(b.free, u)})`,
            ]);
          }
        }
      }
      write(
        formatBorderedTable(['GROUPING', 'CIDR', 'IPS TOTAL', 'IPS IN USE', 'IPS FREE'], rows, {
          rightAlign: [2],
        }),
      );
    } catch (err) {
      ipamFailure(err);
    }
  });
}

export async function check(opts: { config?: string; output?: string }): Promise<void> {
  await withStore(opts.config, async ({ backend, client }) => {
    const ipam = new IpamClient({ backend });
    // A handle is live when a workload endpoint uses one of its addresses; every other
    // allocation (apart from nodes' tunnel addresses, which IPAM recognises) is a leak.
    const weps = (await client.list('WorkloadEndpoint')).items as WorkloadEndpoint[];
    const snap = await ipam.snapshot();
    const wepIps = new Set<string>();
    for (const w of weps) for (const n of w.spec.ipNetworks ?? []) wepIps.add(n.split('/')[0]!);
    const endpointsByHandle: Record<string, string[]> = {};
    const live = new Set<string>();
    for (const { block } of snap.blocks) {
      for (const o of block.allocatedOrdinals()) {
        const handle = block.attributeOf(o)?.handle_id;
        if (handle !== undefined && wepIps.has(formatIp(block.ipAt(o)))) live.add(handle);
      }
    }
    // Each endpoint's addresses must be allocated to the handle that owns its others.
    for (const w of weps) {
      const ips = (w.spec.ipNetworks ?? []).map((n) => n.split('/')[0]!);
      // An endpoint none of whose addresses is allocated is reported under its own name.
      const owner =
        findHandle(snap, ips) ?? `workloadendpoint:${w.metadata.namespace}/${w.metadata.name}`;
      endpointsByHandle[owner] = ips;
    }
    const report = await ipam.check({ liveHandles: live, endpointsByHandle });
    if (opts.output === 'json') {
      write(`${JSON.stringify(report, null, 2)}\n`);
      return;
    }
    if (opts.output !== undefined) {
      writeFileSync(opts.output, `${JSON.stringify(report, null, 2)}\n`);
    }
    const s = report.summary;
    const lines = [
      `Checked IPAM at revision ${report.revision}: ${report.ok ? 'no problems found' : 'problems found'}`,
      `Blocks: ${s.blocks}, affinities: ${s.affinities}, handles: ${s.handles}, allocated addresses: ${s.allocatedAddresses}`,
      `Leaked handles: ${s.leakedHandles} (${s.leakedAddresses} addresses)`,
      ...report.leakedHandles.map((l) => `  ${l.handleId}: ${l.addresses.join(', ')}`),
      `Endpoint addresses not allocated to them: ${s.missingAllocations}`,
      ...report.missingAllocations.map((m) => `  ${m.ip} (handle ${m.handleId}): ${m.problem}`),
      `Affinity problems: ${s.affinityProblems}`,
      ...report.affinityProblems.map((a) => `  ${a.block} on node ${a.node}: ${a.problem}`),
      `Handle records disagreeing with blocks: ${s.handleMismatches}`,
      `Corrupt keys: ${s.corruptKeys}`,
      ...report.corruptKeys.map((c) => `  ${c.key}: ${c.error}`),
    ];
    if (opts.output !== undefined) lines.push(`Report written to ${opts.output}`);
    write(`${lines.join('\n')}\n`);
  });
}

type Snap = Awaited<ReturnType<IpamClient['snapshot']>>;

/** The handle holding the first of these addresses that is allocated, if any. */
function findHandle(snap: Snap, ips: readonly string[]): string | undefined {
  for (const { block } of snap.blocks) {
    for (const o of block.allocatedOrdinals()) {
      if (ips.includes(formatIp(block.ipAt(o)))) return block.attributeOf(o)?.handle_id;
    }
  }
  return undefined;
}

export async function release(opts: { config?: string; ip: string[] }): Promise<void> {
  await withStore(opts.config, async ({ backend }) => {
    const ipam = new IpamClient({ backend });
    let result: Awaited<ReturnType<IpamClient['releaseIps']>>;
    try {
      result = await ipam.releaseIps(opts.ip);
    } catch (err) {
      ipamFailure(err);
    }
    for (const ip of result.released) write(`Successfully released IP address ${ip}\n`);
    const problems = [
      ...result.notAllocated.map((ip) => `IP address ${ip} is not assigned; nothing to release`),
      ...result.stale.map((ip) => `IP address ${ip} was re-assigned meanwhile; left alone`),
    ];
    if (problems.length > 0) throw new CtlError(problems.join('\n'));
  });
}

export async function configure(opts: {
  config?: string;
  strictaffinity?: 'true' | 'false';
  maxBlocksPerHost?: string;
}): Promise<void> {
  const patch: { strictAffinity?: boolean; maxBlocksPerHost?: number } = {};
  if (opts.strictaffinity !== undefined) patch.strictAffinity = opts.strictaffinity === 'true';
  if (opts.maxBlocksPerHost !== undefined) {
    if (!/^\d+$/.test(opts.maxBlocksPerHost))
      throw new CtlError(
        `--max-blocks-per-host ${JSON.stringify(opts.maxBlocksPerHost)}: expected a non-negative integer`,
      );
    patch.maxBlocksPerHost = Number(opts.maxBlocksPerHost);
  }
  if (Object.keys(patch).length === 0)
    throw new CtlError(
      'Nothing to configure: give --strictaffinity true|false and/or --max-blocks-per-host N',
    );
  await withStore(opts.config, async ({ backend }) => {
    const ipam = new IpamClient({ backend });
    let c: Awaited<ReturnType<IpamClient['configure']>>;
    try {
      c = await ipam.configure(patch);
    } catch (err) {
      ipamFailure(err);
    }
    if (patch.strictAffinity !== undefined)
      write(`Successfully set StrictAffinity to: ${c.strictAffinity}\n`);
    if (patch.maxBlocksPerHost !== undefined)
      write(`Successfully set MaxBlocksPerHost to: ${c.maxBlocksPerHost}\n`);
  });
}
