// Calico's BGP model (calico-dataplane.md §11): what confd would render into bird.cfg for
// one node, computed from the datastore as a SpeakerConfig plus the prefixes the node
// originates. Pure: the agent feeds it datastore snapshots and applies the difference
// (model-diff.ts) to a running speaker.
import type {
  BGPConfiguration,
  BGPPeer,
  BlockAffinity,
  IPAMBlock,
  IPPool,
  Node,
} from '../api/index.js';
import { parsePeerIP } from '../api/index.js';
import {
  type Cidr,
  cidrContains,
  formatCidr,
  formatIp,
  hostCidr,
  nthAddress,
  tryParseCidr,
  tryParseIp,
} from '../net/index.js';
import { parseSelector } from '../selector/index.js';
import type { PeerConfig, PeerType, SpeakerConfig } from './types.js';

export const DEFAULT_AS_NUMBER = 64512;
export const DEFAULT_LISTEN_PORT = 179;

/** The datastore resources the model reads; IPAM blocks and affinities as the agent's syncer delivers them. */
export interface BgpModelInput {
  nodes: readonly Node[];
  bgpConfigurations?: readonly BGPConfiguration[];
  bgpPeers?: readonly BGPPeer[];
  ipPools?: readonly IPPool[];
  blocks?: readonly Pick<IPAMBlock, 'spec'>[];
  affinities?: readonly Pick<BlockAffinity, 'spec'>[];
}

/** The serialisable part of SpeakerConfig (what speaker-process.ts reads as JSON). */
export type SpeakerSettings = Omit<
  SpeakerConfig,
  'routeProgrammer' | 'logger' | 'exportPolicy' | 'importPolicy'
>;

export interface NodeBgpConfig {
  speaker: SpeakerSettings & { peers: PeerConfig[] };
  /** canonical prefixes this node originates, sorted: affine blocks and borrowed /32s, /128s */
  prefixes: string[];
}

interface NodeAddrs {
  name: string;
  labels: Record<string, string>;
  v4?: string;
  v6?: string;
  asNumber: number;
  clusterId?: string;
  listenPort: number;
}

/** `64512`, `"64512"` or asdot `"1.10"` as a 32-bit AS number. */
export function parseAsNumber(v: number | string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return v;
  const m = /^([0-9]+)(?:\.([0-9]+))?$/.exec(v);
  if (m === null)
    throw new RangeError(`Cannot parse AS number "${v}": expected 0-4294967295 or a.b`);
  return m[2] === undefined ? Number(m[1]) : Number(m[1]) * 65536 + Number(m[2]);
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  μs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

/** A Go duration ("120s", "2m", "1h30m") in whole seconds, rounded up so "500ms" is not 0. */
export function durationSeconds(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (text === '0') return 0;
  const re = /([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    end = re.lastIndex;
  }
  if (end !== text.length || end === 0)
    throw new RangeError(
      `Cannot parse duration "${text}": expected a Go duration such as 90s or 2m`,
    );
  return Math.ceil(total - 1e-9);
}

/** Node addresses are stored in CIDR form ("10.0.0.1/24"); BGP wants the bare, canonical address. */
function bareAddress(text: string | undefined, family: 4 | 6): string | undefined {
  if (text === undefined || text === '') return undefined;
  const ip = tryParseIp(text.split('/')[0]!);
  return ip !== undefined && ip.family === family ? formatIp(ip) : undefined;
}

/** BIRD protocol names use the peer IP with its separators turned into `_`. */
export function protocolName(prefix: 'Mesh' | 'Global' | 'Node', ip: string): string {
  return `${prefix}_${ip.replace(/[.:]/g, '_')}`;
}

function familyOf(ip: string): 4 | 6 {
  return ip.includes(':') ? 6 : 4;
}

function addrOf(n: NodeAddrs, family: 4 | 6): string | undefined {
  return family === 4 ? n.v4 : n.v6;
}

function nodeAddrs(
  node: Node,
  globalAs: number,
  ports: Map<string, number>,
  defPort: number,
): NodeAddrs {
  const bgp = node.spec.bgp;
  const name = node.metadata.name ?? '';
  const out: NodeAddrs = {
    name,
    labels: node.metadata.labels ?? {},
    asNumber: parseAsNumber(bgp?.asNumber) ?? globalAs,
    listenPort: ports.get(name) ?? defPort,
  };
  const v4 = bareAddress(bgp?.ipv4Address, 4);
  const v6 = bareAddress(bgp?.ipv6Address, 6);
  if (v4 !== undefined) out.v4 = v4;
  if (v6 !== undefined) out.v6 = v6;
  if (bgp?.routeReflectorClusterID) out.clusterId = bgp.routeReflectorClusterID;
  return out;
}

/**
 * A router id for a node without IPv4: Calico's `CALICO_ROUTER_ID=hash` idea, a stable
 * 32-bit value from the node name, so v6-only nodes still get distinct BGP identifiers.
 */
function hashRouterId(name: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return `${h >>> 24}.${(h >>> 16) & 255}.${(h >>> 8) & 255}.${h & 255}`;
}

interface Candidate {
  peer: PeerConfig;
  /** lower wins when two sources name the same address: node-specific, global, mesh */
  rank: number;
  /** tie-break between resources of the same rank */
  source: string;
}

const RANK: Record<PeerType, number> = { 'node specific': 0, global: 1, 'node-to-node mesh': 2 };

/**
 * This node's speaker configuration and originated prefixes, or undefined when the node
 * does not exist or has no BGP address (Calico runs no BGP for it).
 *
 * Decisions beyond §11: the mesh, `asNumber` and `nodeMeshMaxRestartTime` come from the
 * `default` BGPConfiguration only, `listenPort` and `bindMode` may be overridden by
 * `node.<name>`; when a BGPPeer and the mesh (or two BGPPeers) name the same address,
 * the node-specific one wins, then global, then mesh, then the lower resource name;
 * a peerSelector BGPPeer also peers the selected nodes back with the nodes it applies to
 * unless `reversePeering: Manual` (the reverse side uses the selecting node's AS, or the
 * BGPPeer's `localASNumber`, and never applies `localASNumber` to itself);
 * peers of an address family the node has no address in are left out;
 * `localWorkloadSelector` peers and passwords are not supported and are skipped.
 */
export function bgpConfigForNode(
  nodeName: string,
  input: BgpModelInput,
): NodeBgpConfig | undefined {
  const configs = input.bgpConfigurations ?? [];
  const global = configs.find((c) => c.metadata.name === 'default')?.spec ?? {};
  const mine = configs.find((c) => c.metadata.name === `node.${nodeName}`)?.spec ?? {};
  const globalAs = parseAsNumber(global.asNumber) ?? DEFAULT_AS_NUMBER;
  const defPort = global.listenPort ?? DEFAULT_LISTEN_PORT;
  const ports = new Map<string, number>();
  for (const c of configs) {
    const n = c.metadata.name ?? '';
    if (n.startsWith('node.') && c.spec.listenPort !== undefined)
      ports.set(n.slice(5), c.spec.listenPort);
  }
  const all = input.nodes.map((n) => nodeAddrs(n, globalAs, ports, defPort));
  const me = all.find((n) => n.name === nodeName);
  if (me === undefined || (me.v4 === undefined && me.v6 === undefined)) return undefined;
  const byIp = new Map<string, NodeAddrs>();
  for (const n of all) {
    if (n.v4) byIp.set(n.v4, n);
    if (n.v6) byIp.set(n.v6, n);
  }
  const myIps = new Set([me.v4, me.v6].filter((x): x is string => x !== undefined));
  const candidates: Candidate[] = [];

  const meshOn = global.nodeToNodeMeshEnabled !== false;
  if (meshOn && me.clusterId === undefined) {
    const restart = durationSeconds(global.nodeMeshMaxRestartTime);
    for (const other of all) {
      if (other.name === nodeName || other.clusterId !== undefined) continue;
      for (const family of [4, 6] as const) {
        const local = addrOf(me, family);
        const remote = addrOf(other, family);
        if (local === undefined || remote === undefined || myIps.has(remote)) continue;
        const peer: PeerConfig = {
          address: remote,
          asNumber: other.asNumber,
          name: protocolName('Mesh', remote),
          type: 'node-to-node mesh',
          localAddress: local,
          // Lexical on purpose (Calico's rule): the greater string initiates.
          passive: remote > local,
        };
        if (other.listenPort !== DEFAULT_LISTEN_PORT) peer.port = other.listenPort;
        if (restart !== undefined) peer.maxRestartTime = restart;
        candidates.push({ peer, rank: RANK['node-to-node mesh'], source: '' });
      }
    }
  }

  for (const res of input.bgpPeers ?? []) {
    const s = res.spec;
    if ((s.localWorkloadSelector ?? '') !== '') continue;
    const type: PeerType =
      (s.node ?? '') !== '' || (s.nodeSelector ?? '') !== '' ? 'node specific' : 'global';
    const prefix = type === 'global' ? 'Global' : 'Node';
    const targets: {
      ip: string;
      port?: number;
      asNumber: number;
      cluster?: string;
      /** generated for us as the node a peerSelector picked (reversePeering) */
      reverse?: boolean;
    }[] = [];
    const hasSelector = (s.peerSelector ?? '') !== '';
    const localAsOfPeer = parseAsNumber(s.localASNumber);
    const reverseTargets: typeof targets = [];
    // reversePeering Auto (the default): a node that a peerSelector picks peers back with
    // every node the BGPPeer applies to, so Calico's one-resource route reflector set-up
    // (nodeSelector all(), peerSelector route-reflector == 'true') gives the reflectors
    // their clients.
    if (hasSelector && s.reversePeering !== 'Manual') {
      const sel = parseSelector(s.peerSelector!);
      if (sel.matches(me.labels)) {
        for (const other of all) {
          if (other.name === nodeName || !appliesTo(s, other)) continue;
          for (const ip of [other.v4, other.v6]) {
            if (ip === undefined) continue;
            const t: (typeof targets)[number] = {
              ip,
              asNumber: localAsOfPeer ?? other.asNumber,
              reverse: true,
            };
            if (other.listenPort !== DEFAULT_LISTEN_PORT) t.port = other.listenPort;
            if (other.clusterId !== undefined) t.cluster = other.clusterId;
            reverseTargets.push(t);
          }
        }
      }
    }
    if (!appliesTo(s, me)) {
      if (reverseTargets.length === 0) continue;
    } else if (hasSelector) {
      const sel = parseSelector(s.peerSelector!);
      for (const other of all) {
        if (other.name === nodeName || !sel.matches(other.labels)) continue;
        for (const ip of [other.v4, other.v6]) {
          if (ip === undefined) continue;
          const t: (typeof targets)[number] = { ip, asNumber: other.asNumber };
          if (other.listenPort !== DEFAULT_LISTEN_PORT) t.port = other.listenPort;
          if (other.clusterId !== undefined) t.cluster = other.clusterId;
          targets.push(t);
        }
      }
    } else if ((s.peerIP ?? '') !== '') {
      const p = parsePeerIP(s.peerIP!);
      if ('rule' in p) continue;
      const ip = formatIp(tryParseIp(p.ip)!);
      const known = byIp.get(ip);
      const t: (typeof targets)[number] = {
        ip,
        asNumber: parseAsNumber(s.asNumber) ?? known?.asNumber ?? me.asNumber,
      };
      if (p.port !== undefined) t.port = p.port;
      if (known?.clusterId !== undefined) t.cluster = known.clusterId;
      targets.push(t);
    }
    // Forward entries first: when both directions name a node, the forward one stands.
    targets.push(...reverseTargets);
    const seen = new Set<string>();
    for (const t of targets) {
      if (myIps.has(t.ip) || seen.has(t.ip)) continue;
      seen.add(t.ip);
      // localASNumber is the AS of the node the BGPPeer applies to, not of the reverse side.
      const localAs = t.reverse ? undefined : localAsOfPeer;
      const local = addrOf(me, familyOf(t.ip));
      if (local === undefined) continue;
      const peer: PeerConfig = {
        address: t.ip,
        asNumber: t.asNumber,
        name: protocolName(prefix, t.ip),
        type,
      };
      if (s.sourceAddress !== 'None') peer.localAddress = local;
      if (t.port !== undefined) peer.port = t.port;
      const keepalive = durationSeconds(s.keepaliveTime);
      if (keepalive !== undefined) peer.keepaliveTime = keepalive;
      const restart = durationSeconds(s.maxRestartTime);
      if (restart !== undefined) peer.maxRestartTime = restart;
      const mode = s.keepOriginalNextHop === true ? 'Keep' : s.nextHopMode;
      if (mode !== undefined) peer.nextHopMode = mode.toLowerCase() as 'auto' | 'self' | 'keep';
      if (localAs !== undefined && localAs !== me.asNumber) peer.localAsNumber = localAs;
      if (s.numAllowedLocalASNumbers) peer.allowLocalAs = s.numAllowedLocalASNumbers;
      // A route reflector reflects to iBGP peers outside its own cluster (§11).
      const myAs = localAs ?? me.asNumber;
      if (me.clusterId !== undefined && t.asNumber === myAs && t.cluster !== me.clusterId)
        peer.routeReflectorClient = true;
      candidates.push({ peer, rank: RANK[type], source: res.metadata.name ?? '' });
    }
  }
  // Mesh peers are never RR clients: a route reflector is not in the mesh.

  const chosen = new Map<string, Candidate>();
  for (const c of candidates) {
    const prev = chosen.get(c.peer.address);
    if (
      prev === undefined ||
      c.rank < prev.rank ||
      (c.rank === prev.rank && c.source < prev.source)
    )
      chosen.set(c.peer.address, c);
  }
  const peers = [...chosen.values()]
    .map((c) => c.peer)
    .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));

  const speaker: NodeBgpConfig['speaker'] = {
    routerId: me.v4 ?? hashRouterId(nodeName),
    asNumber: me.asNumber,
    listenPort: mine.listenPort ?? defPort,
    peers,
  };
  const bindMode = mine.bindMode ?? global.bindMode;
  if (bindMode === 'NodeIP') speaker.listenAddress = me.v4 ?? me.v6!;
  if (me.clusterId !== undefined) speaker.clusterId = me.clusterId;
  const nextHopSelf: { ipv4?: string; ipv6?: string } = {};
  if (me.v4) nextHopSelf.ipv4 = me.v4;
  if (me.v6) nextHopSelf.ipv6 = me.v6;
  speaker.nextHopSelf = nextHopSelf;
  const prefixes = new Set(exportedPrefixes(nodeName, input));
  // Calico advertises the service CIDRs of the default BGPConfiguration from every node,
  // which makes them anycast: the fabric sees one path per node (ECMP).
  for (const list of [
    global.serviceClusterIPs,
    global.serviceExternalIPs,
    global.serviceLoadBalancerIPs,
  ]) {
    for (const s of list ?? []) {
      const text = s.cidr.includes('/') ? s.cidr : `${s.cidr}/${s.cidr.includes(':') ? 128 : 32}`;
      const c = tryParseCidr(text);
      if (c !== undefined && (c.family === 4 ? me.v4 : me.v6) !== undefined)
        prefixes.add(formatCidr(c));
    }
  }
  return { speaker, prefixes: [...prefixes].sort(comparePrefixText) };
}

function appliesTo(s: BGPPeer['spec'], me: NodeAddrs): boolean {
  if ((s.node ?? '') !== '') return s.node === me.name;
  if ((s.nodeSelector ?? '') !== '') return parseSelector(s.nodeSelector!).matches(me.labels);
  return true;
}

/**
 * Affine blocks (confirmed affinities) and borrowed addresses (allocated for this node in
 * other nodes' blocks), restricted to enabled pools without `disableBGPExport`: what
 * `calico_export_to_bgp_peers` lets out. Space outside every pool is not exported either.
 */
export function exportedPrefixes(nodeName: string, input: BgpModelInput): string[] {
  const pools: { cidr: Cidr; ok: boolean }[] = [];
  for (const p of input.ipPools ?? []) {
    const cidr = tryParseCidr(p.spec.cidr);
    if (cidr)
      pools.push({ cidr, ok: p.spec.disabled !== true && p.spec.disableBGPExport !== true });
  }
  // The most specific pool decides, as BIRD's first-match filter over sorted pools would.
  const exportable = (c: Cidr): boolean => {
    let best: { cidr: Cidr; ok: boolean } | undefined;
    for (const p of pools)
      if (
        cidrContains(p.cidr, c) &&
        (best === undefined || p.cidr.prefixLength > best.cidr.prefixLength)
      )
        best = p;
    return best?.ok === true;
  };
  const out = new Set<string>();
  const mineBlocks = new Set<string>();
  for (const a of input.affinities ?? []) {
    const s = a.spec;
    if (s.node !== nodeName || s.deleted === true) continue;
    // A pending claim may still lose the race for the block; pendingDeletion is being given up.
    if (s.state !== 'confirmed' && s.state !== '') continue;
    const cidr = tryParseCidr(s.cidr);
    if (cidr === undefined) continue;
    mineBlocks.add(formatCidr(cidr));
    if (exportable(cidr)) out.add(formatCidr(cidr));
  }
  for (const b of input.blocks ?? []) {
    const s = b.spec;
    if (s.deleted === true) continue;
    const cidr = tryParseCidr(s.cidr);
    if (cidr === undefined || mineBlocks.has(formatCidr(cidr))) continue;
    if (s.affinity === `host:${nodeName}`) continue;
    if (!exportable(cidr)) continue;
    s.allocations.forEach((a, ordinal) => {
      if (a === null) return;
      const attr = s.attributes[a];
      if (attr?.secondary?.node !== nodeName || attr.releasedAt !== undefined) return;
      out.add(formatCidr(hostCidr(nthAddress(cidr, ordinal))));
    });
  }
  return [...out].sort(comparePrefixText);
}

function comparePrefixText(a: string, b: string): number {
  const fa = familyOf(a);
  const fb = familyOf(b);
  if (fa !== fb) return fa - fb;
  return a < b ? -1 : a > b ? 1 : 0;
}
