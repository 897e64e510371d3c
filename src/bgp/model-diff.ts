// From one NodeBgpConfig to the next as operations on a running speaker, so a datastore
// update touches only the sessions and prefixes it changes: an unrelated block release
// must not reset every BGP session of the host.
import type { NodeBgpConfig } from './model.js';
import { canonicalAddress } from './prefix.js';
import type { PeerConfig } from './types.js';

export interface BgpConfigDiff {
  /**
   * Speaker-wide settings differ (router id, AS, listen address/port, cluster id, next hop
   * self), or there was no previous config: build a new speaker from `next` instead.
   */
  restart: boolean;
  /** peers to remove, by address */
  removePeers: string[];
  /** peers whose settings changed: removed and added again (a session reset) */
  changePeers: PeerConfig[];
  addPeers: PeerConfig[];
  withdraw: string[];
  originate: string[];
}

/** What BgpSpeaker (or a speaker process client) offers for live changes. */
export interface SpeakerControl {
  addPeer(peer: PeerConfig): void;
  removePeer(address: string): void;
  originate(prefix: string): void;
  withdraw(prefix: string): void;
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function speakerWide(c: NodeBgpConfig): string {
  const { peers: _peers, ...rest } = c.speaker;
  return stable(rest);
}

function byAddress(peers: readonly PeerConfig[]): Map<string, PeerConfig> {
  return new Map(peers.map((p) => [canonicalAddress(p.address), p]));
}

export function diffBgpConfig(
  prev: NodeBgpConfig | undefined,
  next: NodeBgpConfig | undefined,
): BgpConfigDiff {
  const restart =
    prev === undefined || next === undefined || speakerWide(prev) !== speakerWide(next);
  const before = byAddress(prev?.speaker.peers ?? []);
  const after = byAddress(next?.speaker.peers ?? []);
  const diff: BgpConfigDiff = {
    restart,
    removePeers: [],
    changePeers: [],
    addPeers: [],
    withdraw: [],
    originate: [],
  };
  for (const [addr, p] of before) if (!after.has(addr)) diff.removePeers.push(p.address);
  for (const [addr, p] of after) {
    const old = before.get(addr);
    if (old === undefined) diff.addPeers.push(p);
    else if (stable(old) !== stable(p)) diff.changePeers.push(p);
  }
  const was = new Set(prev?.prefixes ?? []);
  const now = new Set(next?.prefixes ?? []);
  for (const p of was) if (!now.has(p)) diff.withdraw.push(p);
  for (const p of now) if (!was.has(p)) diff.originate.push(p);
  return diff;
}

export function isEmptyDiff(d: BgpConfigDiff): boolean {
  return (
    !d.restart &&
    d.removePeers.length + d.changePeers.length + d.addPeers.length === 0 &&
    d.withdraw.length + d.originate.length === 0
  );
}

/** Applies a diff that does not need a restart (throws if it does). */
export function applyBgpDiff(speaker: SpeakerControl, d: BgpConfigDiff): void {
  if (d.restart)
    throw new Error('This BGP config change needs a new speaker (diff.restart is set)');
  for (const a of d.removePeers) speaker.removePeer(a);
  for (const p of d.changePeers) {
    speaker.removePeer(p.address);
    speaker.addPeer(p);
  }
  for (const p of d.addPeers) speaker.addPeer(p);
  for (const p of d.withdraw) speaker.withdraw(p);
  for (const p of d.originate) speaker.originate(p);
}
