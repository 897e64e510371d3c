import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyDesiredStateUpdate, emptyDesiredState } from '../calc/index.js';
import {
  ALLOW_ALL_PROFILE,
  hostEndpoint,
  policy,
  ports,
  rule,
  TCP,
  tier,
  updatesFor,
  workload,
} from './fixtures.js';
import {
  allocateMarks,
  chainNames,
  DataplaneConfigError,
  diffTables,
  parseRenderConfig,
  Renderer,
  renderTable,
  serializeFull,
} from './index.js';
import { netElements } from './render.js';
import { renderRule } from './rules.js';

function state(parts: Parameters<typeof updatesFor>[0]) {
  const s = emptyDesiredState();
  for (const u of updatesFor(parts)) applyDesiredStateUpdate(s, u);
  return s;
}

const cfg = parseRenderConfig({});
const ctx = () => ({ cfg, ownerId: 'gnp/p', kind: 'policy' as const, refs: new Map() });

test('marks come from the mask, lowest bits first', () => {
  const m = allocateMarks(0xffff0000);
  assert.deepEqual(
    [m.accept, m.pass, m.drop, m.scratch0, m.scratch1],
    [0x10000, 0x20000, 0x40000, 0x80000, 0x100000],
  );
  const odd = allocateMarks(0x0f0f0000);
  assert.deepEqual([odd.accept, odd.pass, odd.scratch1], [0x10000, 0x20000, 0x1000000]);
  assert.throws(() => allocateMarks(0x0f), DataplaneConfigError);
  assert.equal(parseRenderConfig({ nftablesMarkMask: '0xff000000' }).marks.accept, 0x1000000);
});

test("failsafe host ports default to Felix's lists (calico-semantics.md §8)", () => {
  const text = (l: { protocol: string; port: number }[]) =>
    l.map((p) => `${p.protocol}:${p.port}`).join(' ');
  assert.equal(
    text(cfg.failsafeIn),
    'tcp:22 udp:68 tcp:179 tcp:2379 tcp:2380 tcp:5473 tcp:6443 tcp:6666 tcp:6667',
  );
  assert.equal(
    text(cfg.failsafeOut),
    'udp:53 udp:67 tcp:179 tcp:2379 tcp:2380 tcp:5473 tcp:6443 tcp:6666 tcp:6667',
  );
  assert.deepEqual(parseRenderConfig({ failsafeInboundHostPorts: 'none' }).failsafeIn, []);
});

test('a rule renders per family; other-family CIDRs drop the rule for that family', () => {
  const r = rule('allow', {
    id: 'x',
    src: { nets: ['10.0.0.0/8'] },
    protocol: TCP,
    dst: { ports: ports(80) },
  });
  const out = renderRule(r, ctx());
  assert.equal(out.length, 1);
  assert.match(
    out[0]!,
    /^meta nfproto ipv4 meta l4proto 6 th dport 80 ip saddr 10\.0\.0\.0\/8 counter meta mark set meta mark \| 0x00010000 return comment "cali:/,
  );
  // v4-only notNets: the rule does not exist for v6 at all (Felix drops it per family)
  const neg = renderRule(rule('deny', { src: { notNets: ['10.0.0.0/8'] } }), ctx());
  assert.equal(neg.length, 1);
  assert.match(neg[0]!, /^meta nfproto ipv4 ip saddr != 10\.0\.0\.0\/8 counter drop/);
  // a v4-only set membership rule still renders for v6 too (sets have both families)
  assert.equal(renderRule(rule('deny', { src: { ipSetIds: ['s:x'] } }), ctx()).length, 2);
  // ipVersion restricts; a family-neutral rule renders once
  assert.equal(
    renderRule(rule('allow', { ipVersion: 6, src: { ipSetIds: ['s:x'] } }), ctx()).length,
    1,
  );
  const neutral = renderRule(rule('allow', { protocol: TCP, dst: { ports: ports(1, 5) } }), ctx());
  assert.equal(neutral.length, 1);
  assert.match(neutral[0]!, /^meta l4proto 6 th dport \{ 1, 5 \}/);
});

test('ports OR named ports uses a scratch mark and acts once', () => {
  const c = ctx();
  const out = renderRule(
    rule('log', {
      protocol: TCP,
      dst: { ports: [{ first: 80, last: 81 }], namedPortIpSetIds: ['n:http'] },
    }),
    c,
  );
  // per family: clear, two alternatives, one acting rule
  assert.equal(out.length, 8);
  assert.match(out[1]!, /th dport 80-81 meta mark set meta mark \| 0x00100000/);
  assert.match(out[2]!, /ip daddr \. meta l4proto \. th dport @cali4s-n_http_\w+ meta mark set/);
  assert.match(
    out[3]!,
    /meta mark & 0x00100000 == 0x00100000 counter log prefix "calico-packet gnp\/p "/,
  );
  assert.equal(c.refs.get('n:http'), 'ip-port');
});

test('ICMP matches and negations', () => {
  const out = renderRule(rule('deny', { protocol: 1, notIcmp: { type: 8, code: 0 } }), ctx());
  assert.equal(out.length, 1);
  assert.match(out[0]!, /icmp type \. icmp code != \{ 8 \. 0 \}/);
  assert.equal(renderRule(rule('deny', { protocol: 58, icmp: { type: 128 } }), ctx()).length, 1);
  assert.match(
    renderRule(rule('deny', { protocol: 58, icmp: { type: 128 } }), ctx())[0]!,
    /icmpv6 type 128/,
  );
});

test('set elements are canonical and never overlap', () => {
  assert.deepEqual(netElements(['10.0.0.0/8', '10.1.0.0/16', '192.168.1.1/32', 'fd00::/8'], 4), [
    '10.0.0.0/8',
    '192.168.1.1',
  ]);
  assert.deepEqual(netElements(['fd00::1/128', '10.0.0.1/32'], 6), ['fd00::1']);
});

const wlA = workload('ns/a', 'calia', '10.0.0.1', 'fd00::1', {
  profileIds: ['kns.default'],
  tiers: [tier('t1', ['gnp/p1', 'gnp/p2'], [], 'Deny'), tier('t2', ['gnp/p3'], [], 'Pass')],
});

test('endpoint chains: conntrack, tiers with pass guards and end-of-tier, profiles, final drop', () => {
  const s = state({
    policies: [
      policy('gnp/p1', [rule('pass')]),
      policy('gnp/p2', [rule('allow')]),
      policy('gnp/p3', []),
    ],
    profiles: [ALLOW_ALL_PROFILE],
    workloads: [wlA],
  });
  const t = renderTable(s);
  const tw = t.chains.get('cali-tw-calia')!.rules.map((r) => r.replace(/ comment .*/, ''));
  assert.deepEqual(tw, [
    'ct state invalid counter drop',
    'meta mark set meta mark & 0xfffcffff',
    'meta mark set meta mark & 0xfffdffff',
    `jump ${chainNames.policyIn('gnp/p1')}`,
    'meta mark & 0x00010000 == 0x00010000 return',
    `meta mark & 0x00020000 == 0x00000000 jump ${chainNames.policyIn('gnp/p2')}`,
    'meta mark & 0x00010000 == 0x00010000 return',
    'meta mark & 0x00020000 == 0x00000000 counter drop',
    'meta mark set meta mark & 0xfffdffff',
    `jump ${chainNames.policyIn('gnp/p3')}`,
    'meta mark & 0x00010000 == 0x00010000 return',
    'jump cali-pri-kns.default',
    'meta mark & 0x00010000 == 0x00010000 return',
    'counter drop',
  ]);
  // egress: no tier applies → straight to profiles
  const fw = t.chains.get('cali-fw-calia')!.rules.map((r) => r.replace(/ comment .*/, ''));
  assert.ok(fw.includes('jump cali-pro-kns.default'));
  assert.ok(!fw.some((r) => r.includes('cali-po-')));
  assert.equal(fw[fw.length - 1], 'counter drop');
  assert.equal(t.maps.get('cali-from-wl')!.elements.get('"calia"'), 'goto cali-fw-calia');
  assert.equal(t.maps.get('cali-to-wl')!.elements.get('"calia"'), 'goto cali-tw-calia');
  // unknown interfaces fall through the vmap into a drop
  assert.match(
    t.chains.get('cali-from-wl-dispatch')!.rules[1]!,
    /^counter drop comment "cali:\w+ unknown interface"/,
  );
  const sp = t.chains.get('cali-sp-calia')!.rules;
  assert.match(sp[0]!, /^ip saddr \{ 10\.0\.0\.1 \} return/);
  assert.match(sp[1]!, /^ip6 saddr \{ ::, fd00::1, fe80::\/10 \} return/);
});

test('missing profile or policy fails closed; admin-down maps to drop', () => {
  const s = state({
    workloads: [
      workload('ns/a', 'calia', '10.0.0.1', undefined, {
        profileIds: ['nope'],
        tiers: [tier('t', ['gnp/gone'])],
      }),
      workload('ns/b', 'calib', '10.0.0.2', undefined, { adminUp: false }),
    ],
  });
  const t = renderTable(s);
  const tw = t.chains.get('cali-tw-calia')!.rules.join('\n');
  assert.match(tw, /counter drop comment "cali:\w+ missing policy gnp\/gone"/);
  assert.match(tw, /counter drop comment "cali:\w+ missing profile nope"/);
  assert.equal(t.maps.get('cali-from-wl')!.elements.get('"calib"'), 'drop');
  assert.deepEqual(t.sets.get('cali-down-ifs')!.elements, ['"calib"']);
  assert.ok(!t.chains.has('cali-tw-calib'));
});

test('host endpoints: failsafe chains, forward chains, `*`', () => {
  const s = state({
    config: {
      failsafeInboundHostPorts: [
        { protocol: 'tcp', port: 22 },
        { protocol: 'udp', port: 68 },
      ],
    },
    policies: [policy('gnp/f', [rule('deny')], [], { applyOnForward: true })],
    hostEndpoints: [
      hostEndpoint('h', 'eth0', { forwardTiers: [tier('default', ['gnp/f'])] }),
      hostEndpoint('all', '*'),
    ],
  });
  const t = renderTable(s);
  const fs = t.chains.get('cali-failsafe-in')!.rules.join('\n');
  assert.match(fs, /meta l4proto tcp th dport 22 counter accept/);
  assert.match(fs, /meta l4proto udp th dport 68 counter accept/);
  assert.match(t.chains.get('cali-fh-h')!.rules[1]!, /^jump cali-failsafe-in/);
  assert.ok(t.chains.get('cali-fhfw-h')!.rules.some((r) => r.startsWith('jump cali-pi-gnp_f')));
  assert.equal(t.maps.get('cali-hep-in')!.elements.get('"eth0"'), 'goto cali-fh-h');
  const input = t.chains.get('cali-input')!.rules.join('\n');
  assert.match(
    input,
    /iifname != "lo" iifname != "cali\*" iifname != @cali-hep-ifs goto cali-fh-all/,
  );
});

test('NAT outgoing covers natOutgoing pools leaving every pool', () => {
  const t = renderTable(
    state({ pools: [{ cidr: '10.1.0.0/16', natOutgoing: true }, { cidr: '10.2.0.0/16' }] }),
  );
  assert.deepEqual(t.sets.get('cali4-masq-pools')!.elements, ['10.1.0.0/16']);
  assert.deepEqual(t.sets.get('cali4-all-pools')!.elements, ['10.1.0.0/16', '10.2.0.0/16']);
  assert.match(t.chains.get('cali-nat-postrouting')!.hook!, /type nat hook postrouting/);
});

test('full serialisation replaces the table atomically', () => {
  const text = serializeFull(renderTable(state({ workloads: [wlA] })));
  assert.ok(
    text.startsWith('add table inet calico\ndelete table inet calico\nadd table inet calico\n'),
  );
  // chains are declared before maps refer to them, rules last
  assert.ok(
    text.indexOf('add chain inet calico cali-fw-calia') <
      text.indexOf('add map inet calico cali-from-wl'),
  );
  assert.ok(text.indexOf('add map') < text.indexOf('add rule'));
});

test('a workload add/remove is a small delta touching only its own objects', () => {
  const r = new Renderer();
  const s = state({ profiles: [ALLOW_ALL_PROFILE], workloads: [wlA] });
  const before = r.render(s);
  assert.equal(diffTables(before, r.render(s)).script, '');
  applyDesiredStateUpdate(s, {
    type: 'workloadEndpointUpdate',
    endpoint: workload('ns/b', 'calib', '10.0.0.2', undefined, { profileIds: ['kns.default'] }),
  });
  const after = r.render(s);
  const d = diffTables(before, after);
  const lines = d.script.trim().split('\n');
  assert.ok(
    lines.every((l) => /calib|cali-(from|to)-wl|cali-wl-source/.test(l)),
    d.script,
  );
  assert.ok(lines.some((l) => l.startsWith('add chain inet calico cali-fw-calib')));
  // endpoint chains are filled in a chain block: nft 1.0.6 then needs no set/chain cache
  assert.ok(!lines.some((l) => l.startsWith('add rule')), d.script);
  assert.ok(
    lines.some((l) =>
      /^add chain inet calico cali-fw-calib \{ .*counter drop comment .*; \}$/.test(l),
    ),
    d.script,
  );
  // element additions re-declare the map (nft then needs no full cache listing)
  assert.ok(
    lines.includes(
      'add map inet calico cali-from-wl { type ifname : verdict; elements = { "calib" : goto cali-fw-calib }; }',
    ),
    d.script,
  );
  applyDesiredStateUpdate(s, { type: 'workloadEndpointRemove', id: 'ns/b' });
  const removed = diffTables(after, r.render(s)).script;
  // removals flush and refill the map in the same transaction
  assert.match(
    removed,
    /flush map inet calico cali-from-wl\nadd map inet calico cali-from-wl \{ type ifname : verdict; elements = \{ "calia" : goto cali-fw-calia \}; \}/,
  );
  assert.match(removed, /flush chain inet calico cali-fw-calib\n/);
  assert.match(removed, /delete chain inet calico cali-fw-calib\n/);
  assert.ok(removed.indexOf('flush map') < removed.indexOf('delete chain'));
});

test('IP set deltas become element adds and deletes', () => {
  const r = new Renderer();
  const s = state({ ipSets: [{ id: 's:x', members: ['10.0.0.1/32', '10.0.0.2/32'] }] });
  const before = r.render(s);
  applyDesiredStateUpdate(s, {
    type: 'ipSetDelta',
    id: 's:x',
    added: ['10.0.0.3/32'],
    removed: ['10.0.0.1/32'],
  });
  const d = diffTables(before, r.render(s, new Set(['s:x']))).script;
  assert.match(d, /^flush set inet calico cali4s-s_x_\w+\n/);
  assert.match(
    d,
    /add set inet calico cali4s-s_x_\w+ \{ type ipv4_addr; flags interval; elements = \{ 10\.0\.0\.2, 10\.0\.0\.3 \}; \}/,
  );
  assert.equal(d.trim().split('\n').length, 2);
  // pure additions only re-declare with the new elements
  const before2 = r.render(s);
  applyDesiredStateUpdate(s, {
    type: 'ipSetDelta',
    id: 's:x',
    added: ['10.0.0.9/32'],
    removed: [],
  });
  assert.match(
    diffTables(before2, r.render(s, new Set(['s:x']))).script,
    /^add set inet calico cali4s-s_x_\w+ \{ type ipv4_addr; flags interval; elements = \{ 10\.0\.0\.9 \}; \}\n$/,
  );
});

test('a chain whose rules name a set is filled with add rule (nft resolves @set from its cache)', () => {
  const p = policy('np/x', [rule('allow', { id: 'r0', src: { ipSetIds: ['s:x'] } })], []);
  const before = renderTable(state({ ipSets: [{ id: 's:x', members: ['10.0.0.1/32'] }] }));
  const after = renderTable(
    state({ ipSets: [{ id: 's:x', members: ['10.0.0.1/32'] }], policies: [p] }),
  );
  const lines = diffTables(before, after).script.trim().split('\n');
  const [pi] = [...after.chains.keys()].filter((n) => n.startsWith('cali-pi-np_x'));
  assert.ok(pi);
  assert.ok(lines.includes(`add chain inet calico ${pi}`));
  assert.ok(
    lines.some((l) => l.startsWith(`add rule inet calico ${pi} `) && l.includes('@cali4s-s_x')),
  );
  assert.ok(!lines.some((l) => l.startsWith(`add chain inet calico ${pi} {`)));
});
