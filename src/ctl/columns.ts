/**
 * Per-kind columns of `get -o ps` and `-o wide`, after calicoctl's resource managers:
 * `ps` shows what identifies a resource, `wide` adds what an operator checks next.
 */
type Res = { metadata?: { name?: string; namespace?: string; labels?: Record<string, string> } } & {
  spec?: Record<string, unknown>;
};

type Cell = (r: Res) => string;

function field(path: string): Cell {
  return (r) => {
    let cur: unknown = r;
    for (const p of path.split('.')) {
      if (typeof cur !== 'object' || cur === null) return '';
      cur = (cur as Record<string, unknown>)[p];
    }
    if (cur === undefined || cur === null) return '';
    if (Array.isArray(cur)) return cur.map(String).join(',');
    if (typeof cur === 'object')
      return Object.entries(cur)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(',');
    return String(cur);
  };
}

const name = field('metadata.name');

/** Go prints an unset bool as false; so do we. */
function bool(path: string): Cell {
  const f = field(path);
  return (r) => f(r) || 'false';
}

interface KindColumns {
  ps: [string, Cell][];
  wide: [string, Cell][];
}

const n: [string, Cell] = ['NAME', name];

const COLUMNS: Record<string, KindColumns> = {
  BGPConfiguration: {
    ps: [
      n,
      ['LOGSEVERITY', field('spec.logSeverityScreen')],
      ['MESHENABLED', field('spec.nodeToNodeMeshEnabled')],
      ['ASNUMBER', field('spec.asNumber')],
    ],
    wide: [
      n,
      ['LOGSEVERITY', field('spec.logSeverityScreen')],
      ['MESHENABLED', field('spec.nodeToNodeMeshEnabled')],
      ['ASNUMBER', field('spec.asNumber')],
      ['LISTENPORT', field('spec.listenPort')],
    ],
  },
  BGPPeer: {
    ps: [
      n,
      ['PEERIP', field('spec.peerIP')],
      ['NODE', field('spec.node')],
      ['ASN', field('spec.asNumber')],
    ],
    wide: [
      n,
      ['PEERIP', field('spec.peerIP')],
      ['NODE', field('spec.node')],
      ['ASN', field('spec.asNumber')],
      ['NODESELECTOR', field('spec.nodeSelector')],
      ['PEERSELECTOR', field('spec.peerSelector')],
    ],
  },
  GlobalNetworkPolicy: {
    ps: [n],
    wide: [
      n,
      ['TIER', field('spec.tier')],
      ['ORDER', field('spec.order')],
      ['SELECTOR', field('spec.selector')],
    ],
  },
  StagedGlobalNetworkPolicy: {
    ps: [n],
    wide: [
      n,
      ['TIER', field('spec.tier')],
      ['ORDER', field('spec.order')],
      ['SELECTOR', field('spec.selector')],
    ],
  },
  NetworkPolicy: {
    ps: [n],
    wide: [
      n,
      ['TIER', field('spec.tier')],
      ['ORDER', field('spec.order')],
      ['SELECTOR', field('spec.selector')],
    ],
  },
  StagedNetworkPolicy: {
    ps: [n],
    wide: [
      n,
      ['TIER', field('spec.tier')],
      ['ORDER', field('spec.order')],
      ['SELECTOR', field('spec.selector')],
    ],
  },
  GlobalNetworkSet: { ps: [n], wide: [n, ['NETS', field('spec.nets')]] },
  NetworkSet: { ps: [n], wide: [n, ['NETS', field('spec.nets')]] },
  HostEndpoint: {
    ps: [n, ['NODE', field('spec.node')]],
    wide: [
      n,
      ['NODE', field('spec.node')],
      ['INTERFACE', field('spec.interfaceName')],
      ['IPS', field('spec.expectedIPs')],
      ['PROFILES', field('spec.profiles')],
    ],
  },
  IPPool: {
    ps: [n, ['CIDR', field('spec.cidr')], ['SELECTOR', field('spec.nodeSelector')]],
    wide: [
      n,
      ['CIDR', field('spec.cidr')],
      ['NAT', bool('spec.natOutgoing')],
      ['IPIPMODE', field('spec.ipipMode')],
      ['VXLANMODE', field('spec.vxlanMode')],
      ['DISABLED', bool('spec.disabled')],
      ['DISABLEBGPEXPORT', bool('spec.disableBGPExport')],
      ['SELECTOR', field('spec.nodeSelector')],
    ],
  },
  IPReservation: {
    ps: [n, ['CIDRS', field('spec.reservedCIDRs')]],
    wide: [n, ['CIDRS', field('spec.reservedCIDRs')]],
  },
  Node: {
    ps: [n],
    wide: [
      n,
      ['ASN', field('spec.bgp.asNumber')],
      ['IPV4', field('spec.bgp.ipv4Address')],
      ['IPV6', field('spec.bgp.ipv6Address')],
    ],
  },
  Profile: { ps: [n], wide: [n, ['LABELS', field('spec.labelsToApply')]] },
  Tier: {
    ps: [n, ['ORDER', field('spec.order')]],
    wide: [n, ['ORDER', field('spec.order')], ['DEFAULTACTION', field('spec.defaultAction')]],
  },
  WorkloadEndpoint: {
    ps: [
      ['WORKLOAD', (r) => field('spec.workload')(r) || name(r)],
      ['NODE', field('spec.node')],
      ['NETWORKS', field('spec.ipNetworks')],
      ['INTERFACE', field('spec.interfaceName')],
    ],
    wide: [
      n,
      ['WORKLOAD', field('spec.workload')],
      ['NODE', field('spec.node')],
      ['NETWORKS', field('spec.ipNetworks')],
      ['INTERFACE', field('spec.interfaceName')],
      ['PROFILES', field('spec.profiles')],
      [
        'NATS',
        (r) =>
          ((r.spec?.ipNATs as { internalIP: string; externalIP: string }[] | undefined) ?? [])
            .map((x) => `${x.internalIP}:${x.externalIP}`)
            .join(','),
      ],
    ],
  },
  IPAMBlock: {
    ps: [n, ['CIDR', field('spec.cidr')], ['AFFINITY', field('spec.affinity')]],
    wide: [n, ['CIDR', field('spec.cidr')], ['AFFINITY', field('spec.affinity')]],
  },
  BlockAffinity: {
    ps: [
      n,
      ['NODE', field('spec.node')],
      ['CIDR', field('spec.cidr')],
      ['STATE', field('spec.state')],
    ],
    wide: [
      n,
      ['NODE', field('spec.node')],
      ['CIDR', field('spec.cidr')],
      ['STATE', field('spec.state')],
    ],
  },
};

const DEFAULT: KindColumns = { ps: [n], wide: [n, ['LABELS', field('metadata.labels')]] };

/** Headers and rows for `get -o ps|wide`; namespaced kinds lead with NAMESPACE. */
export function tableFor(
  kind: string,
  namespaced: boolean,
  wide: boolean,
  items: readonly unknown[],
): { headers: string[]; rows: string[][] } {
  const cols = [...(COLUMNS[kind] ?? DEFAULT)[wide ? 'wide' : 'ps']];
  if (namespaced) cols.unshift(['NAMESPACE', field('metadata.namespace')]);
  return {
    headers: cols.map(([h]) => h),
    rows: items.map((it) => cols.map(([, cell]) => cell(it as Res))),
  };
}
