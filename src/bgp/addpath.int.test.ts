// ADD-PATH (RFC 7911) with real BIRD 2 on both sides of our speaker `a`: speakers b and c
// announce the same /32, a BIRD route reflector passes both paths to `a` (`add paths tx`),
// which installs one ECMP route; `a`, itself a route reflector for a leaf BIRD, passes
// both paths on (`add paths rx` there), and the leaf's kernel gets the ECMP route too.
// Without ADD-PATH each reflector could pass on only its best path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BgpLab, kernelRoutes, waitFor } from './test-lab.js';

const AS = 64512;
const NODES = [
  { name: 'a', ip: '10.254.7.2' },
  { name: 'b', ip: '10.254.7.3' },
  { name: 'c', ip: '10.254.7.4' },
];
const RR = '10.254.7.1';
const LEAF = '10.254.7.5';
const ANYCAST = '10.254.99.9/32';

const rrConf = `
log stderr all;
router id ${RR};
protocol device { scan time 1; }
template bgp reflected {
  local ${RR} as ${AS};
  direct;
  rr client; rr cluster id ${RR};
  hold time 9; keepalive time 3;
  connect delay time 1; connect retry time 2; error wait time 1, 4;
  ipv4 { import all; export all; add paths on; };
}
${NODES.map((n) => `protocol bgp ${n.name} from reflected { neighbor ${n.ip} as ${AS}; }`).join('\n')}
`;

const leafConf = `
log stderr all;
router id ${LEAF};
protocol device { scan time 1; }
protocol kernel kernel4 { ipv4 { import none; export where source = RTS_BGP; }; merge paths on; }
protocol bgp a {
  local ${LEAF} as ${AS}; neighbor ${NODES[0]!.ip} as ${AS};
  direct;
  hold time 9; keepalive time 3;
  connect delay time 1; connect retry time 2; error wait time 1, 4;
  ipv4 { import all; export none; add paths rx; };
}
`;

async function leafHops(ns: string): Promise<string | undefined> {
  return (await kernelRoutes(ns, 'bird')).get(ANYCAST)?.join();
}

test('ADD-PATH: both anycast paths through two route reflectors, ECMP at each end', {
  timeout: 120_000,
}, async (t) => {
  const lab = new BgpLab('ctbap');
  t.after(() => lab.cleanup());
  const sw = await lab.ns('sw');
  await lab.lab.sh(sw, 'ip link add br0 type bridge && ip link set br0 up');
  const all = [
    { name: 'rr', ip: RR, ns: await lab.ns('rr') },
    ...(await Promise.all(NODES.map(async (n) => ({ ...n, ns: await lab.ns(n.name) })))),
    { name: 'leaf', ip: LEAF, ns: await lab.ns('leaf') },
  ];
  for (const [i, n] of all.entries()) {
    await lab.lab.veth(n.ns, 'eth0', sw, `p${i}`);
    await lab.lab.sh(sw, `ip link set p${i} master br0 && ip link set p${i} up`);
    await lab.lab.ipBatch(n.ns, [`addr add ${n.ip}/24 dev eth0`, 'link set eth0 up']);
  }
  const aNs = all[1]!.ns;
  const leafNs = all[4]!.ns;
  const rr = lab.bird(all[0]!.ns, 'rr', rrConf);
  const leaf = lab.bird(leafNs, 'leaf', leafConf);
  await rr.start();
  await leaf.start();
  const toRr = { address: RR, asNumber: AS, holdTime: 9, connectRetryTime: 1, addPath: 'both' };
  const a = await lab.speaker(aNs, {
    routerId: NODES[0]!.ip,
    asNumber: AS,
    peers: [toRr, { ...toRr, address: LEAF, routeReflectorClient: true }],
  });
  const b = await lab.speaker(all[2]!.ns, { routerId: NODES[1]!.ip, asNumber: AS, peers: [toRr] });
  const c = await lab.speaker(all[3]!.ns, { routerId: NODES[2]!.ip, asNumber: AS, peers: [toRr] });
  for (const sp of [a, b, c]) await waitFor('session to the reflector', () => sp.established(RR));
  await waitFor('session to the leaf', () => a.established(LEAF));

  await t.test('the reflector passes both paths: ECMP at a', async () => {
    await b.request('originate', { prefix: ANYCAST });
    await c.request('originate', { prefix: ANYCAST });
    const both = `${NODES[1]!.ip},${NODES[2]!.ip}`;
    await waitFor(
      'ECMP route at a',
      async () => (await kernelRoutes(aNs, 81)).get(ANYCAST)?.join() === both,
    );
    const r = (await a.routes()).find((x) => x.prefix === ANYCAST)!;
    assert.equal(r.paths, 2);
  });

  await t.test('a reflects both paths on: ECMP in the leaf BIRD', async () => {
    const both = `${NODES[1]!.ip},${NODES[2]!.ip}`;
    await waitFor('ECMP route at the leaf', async () => (await leafHops(leafNs)) === both);
    const shown = await leaf.birdc('show', 'route', 'for', ANYCAST, 'all');
    assert.equal((shown.match(/BGP\.next_hop/g) ?? []).length, 2, shown);
  });

  await t.test('one path withdrawn: both ends narrow to the other', async () => {
    await b.request('withdraw', { prefix: ANYCAST });
    await waitFor(
      'single path at a',
      async () => (await kernelRoutes(aNs, 81)).get(ANYCAST)?.join() === NODES[2]!.ip,
    );
    await waitFor('single path at the leaf', async () => (await leafHops(leafNs)) === NODES[2]!.ip);
    await c.request('withdraw', { prefix: ANYCAST });
    await waitFor('route gone at a', async () => !(await kernelRoutes(aNs, 81)).has(ANYCAST));
    await waitFor('route gone at the leaf', async () => (await leafHops(leafNs)) === undefined);
  });
});
