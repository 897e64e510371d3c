import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  AS_TRANS,
  type CodecContext,
  decodeMessage,
  encodeAnnounce,
  encodeEndOfRib,
  encodeKeepalive,
  encodeNotification,
  encodeOpen,
  encodeRouteRefresh,
  encodeUpdateMessage,
  encodeWithdraw,
  endOfRibFamily,
  type OpenMessage,
  type UpdateMessage,
} from './codec.js';
import { BgpError } from './errors.js';
import { canonicalPrefix } from './prefix.js';

const AS4: CodecContext = { as4: true };
const AS2: CodecContext = { as4: false };

function hdr(type: number, body: number[]): Buffer {
  const b = Buffer.alloc(19 + body.length, 0xff);
  b.writeUInt16BE(19 + body.length, 16);
  b[18] = type;
  Buffer.from(body).copy(b, 19);
  return b;
}

/** UPDATE with raw attribute bytes and IPv4 NLRI bytes. */
function rawUpdate(attrs: number[], nlri: number[], withdrawn: number[] = []): Buffer {
  return hdr(2, [
    withdrawn.length >> 8,
    withdrawn.length & 0xff,
    ...withdrawn,
    attrs.length >> 8,
    attrs.length & 0xff,
    ...attrs,
    ...nlri,
  ]);
}

const ORIGIN = [0x40, 1, 1, 0];
const ASPATH_EMPTY = [0x40, 2, 0];
const NEXTHOP = [0x40, 3, 4, 10, 0, 0, 1];

function expectBgpError(fn: () => unknown, code: number, subcode: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BgpError, `expected BgpError, got ${String(e)}`);
    assert.equal(`${e.code}/${e.subcode}`, `${code}/${subcode}`);
    return true;
  });
}

test('OPEN round trip with capabilities', () => {
  const buf = encodeOpen({
    localAs: 4200000001,
    holdTime: 90,
    bgpId: '10.0.0.1',
    families: [
      { afi: 1, safi: 1 },
      { afi: 2, safi: 1 },
    ],
    gracefulRestart: {
      restarting: true,
      restartTime: 120,
      families: [{ afi: 1, safi: 1, forwarding: true }],
    },
  });
  const m = decodeMessage(buf) as OpenMessage;
  assert.equal(m.type, 'open');
  assert.equal(m.myAs, AS_TRANS);
  assert.equal(m.holdTime, 90);
  assert.equal(m.bgpId, '10.0.0.1');
  assert.equal(m.capabilities.as4, 4200000001);
  assert.deepEqual(m.capabilities.multiprotocol, [
    { afi: 1, safi: 1 },
    { afi: 2, safi: 1 },
  ]);
  assert.equal(m.capabilities.routeRefresh, true);
  assert.deepEqual(m.capabilities.gracefulRestart, {
    restarting: true,
    restartTime: 120,
    families: [{ afi: 1, safi: 1, forwarding: true }],
  });
});

test('small messages round trip', () => {
  assert.deepEqual(decodeMessage(encodeKeepalive()), { type: 'keepalive' });
  const n = decodeMessage(encodeNotification(6, 2, Uint8Array.of(1, 2)));
  assert.deepEqual(n, { type: 'notification', code: 6, subcode: 2, data: Uint8Array.of(1, 2) });
  assert.deepEqual(decodeMessage(encodeRouteRefresh(2, 1)), {
    type: 'route-refresh',
    afi: 2,
    safi: 1,
    subtype: 0,
  });
});

test('IPv4 announce with every attribute round trips', () => {
  const attrs = {
    origin: 1,
    asPath: [
      { type: 2, asns: [65001, 4200000000] },
      { type: 1, asns: [7, 8] },
    ],
    nextHop: '10.1.2.3',
    med: 50,
    localPref: 200,
    atomicAggregate: true,
    aggregator: { asn: 65001, address: '10.9.9.9' },
    communities: [((65000 << 16) | 100) >>> 0],
    largeCommunities: [[64512, 1, 2]] as Array<[number, number, number]>,
    originatorId: '1.1.1.1',
    clusterList: ['2.2.2.2', '3.3.3.3'],
    unknown: [{ flags: 0xc0, type: 99, value: Uint8Array.of(1, 2, 3) }],
  };
  const [msg] = encodeAnnounce(1, ['10.0.0.0/8', '192.168.1.0/24', '0.0.0.0/0'], attrs, AS4);
  const u = decodeMessage(msg!, AS4) as UpdateMessage;
  assert.equal(u.treatAsWithdraw, undefined);
  assert.deepEqual(u.nlri, ['10.0.0.0/8', '192.168.1.0/24', '0.0.0.0/0']);
  assert.deepEqual(u.attrs.asPath, attrs.asPath);
  assert.equal(u.attrs.nextHop, '10.1.2.3');
  assert.equal(u.attrs.med, 50);
  assert.equal(u.attrs.localPref, 200);
  assert.equal(u.attrs.atomicAggregate, true);
  assert.deepEqual(u.attrs.aggregator, attrs.aggregator);
  assert.deepEqual(u.attrs.communities, attrs.communities);
  assert.deepEqual(u.attrs.largeCommunities, attrs.largeCommunities);
  assert.equal(u.attrs.originatorId, '1.1.1.1');
  assert.deepEqual(u.attrs.clusterList, ['2.2.2.2', '3.3.3.3']);
  // Forwarded unknown optional transitive attributes carry the partial bit.
  assert.deepEqual(u.attrs.unknown, [{ flags: 0xe0, type: 99, value: Uint8Array.of(1, 2, 3) }]);
});

test('2-octet session carries 4-octet ASes in AS4_PATH and merges them back', () => {
  const attrs = {
    origin: 0,
    asPath: [{ type: 2, asns: [65001, 4200000000, 65002] }],
    nextHop: '10.1.2.3',
  };
  const [msg] = encodeAnnounce(1, ['10.0.0.0/24'], attrs, AS2);
  const u = decodeMessage(msg!, AS2) as UpdateMessage;
  assert.deepEqual(u.attrs.asPath, attrs.asPath);
});

test('IPv6 announce uses MP_REACH with global and link-local next hops', () => {
  const msgs = encodeAnnounce(2, ['fd00:1::/64', '2001:db8::/32'], { origin: 0, asPath: [] }, AS4, [
    'fd00::1',
    'fe80::1',
  ]);
  const u = decodeMessage(msgs[0]!) as UpdateMessage;
  assert.deepEqual(u.mpReach, {
    afi: 2,
    safi: 1,
    nextHops: ['fd00::1', 'fe80::1'],
    nlri: ['fd00:1::/64', '2001:db8::/32'],
  });
  const w = decodeMessage(encodeWithdraw(2, ['fd00:1::/64'])[0]!) as UpdateMessage;
  assert.deepEqual(w.mpUnreach, { afi: 2, safi: 1, withdrawn: ['fd00:1::/64'] });
});

test('large announcements split below 4096 octets and keep every prefix', () => {
  const prefixes: string[] = [];
  for (let i = 0; i < 5000; i++) prefixes.push(`10.${i >> 8}.${i & 255}.0/24`);
  for (const afi of [1, 2] as const) {
    const list =
      afi === 1 ? prefixes : prefixes.map((_, i) => canonicalPrefix(`fd00:${i.toString(16)}::/64`));
    const msgs = encodeAnnounce(afi, list, { origin: 0, asPath: [], nextHop: '1.2.3.4' }, AS4, [
      'fd00::1',
    ]);
    const got: string[] = [];
    for (const m of msgs) {
      assert.ok(m.length <= 4096);
      const u = decodeMessage(m) as UpdateMessage;
      got.push(...u.nlri, ...(u.mpReach?.nlri ?? []));
    }
    assert.deepEqual(got, list);
    const wd: string[] = [];
    for (const m of encodeWithdraw(afi, list)) {
      const u = decodeMessage(m) as UpdateMessage;
      wd.push(...u.withdrawn, ...(u.mpUnreach?.withdrawn ?? []));
    }
    assert.deepEqual(wd, list);
  }
});

test('End-of-RIB markers', () => {
  assert.equal(endOfRibFamily(decodeMessage(encodeEndOfRib(1)) as UpdateMessage), 1);
  assert.equal(endOfRibFamily(decodeMessage(encodeEndOfRib(2)) as UpdateMessage), 2);
  const w = decodeMessage(encodeWithdraw(1, ['10.0.0.0/8'])[0]!) as UpdateMessage;
  assert.equal(endOfRibFamily(w), undefined);
});

test('header errors get RFC 4271 §6.1 codes', () => {
  const k = encodeKeepalive();
  const badMarker = Buffer.from(k);
  badMarker[3] = 0;
  expectBgpError(() => decodeMessage(badMarker), 1, 1);
  const badLen = Buffer.from(k);
  badLen.writeUInt16BE(18, 16);
  expectBgpError(() => decodeMessage(badLen), 1, 2);
  expectBgpError(() => decodeMessage(hdr(4, [0])), 1, 2); // keepalive with a body
  expectBgpError(() => decodeMessage(hdr(9, [])), 1, 3);
});

test('OPEN errors', () => {
  const open = encodeOpen({ localAs: 65000, holdTime: 90, bgpId: '1.1.1.1', families: [] });
  const v3 = Buffer.from(open);
  v3[19] = 3;
  expectBgpError(() => decodeMessage(v3), 2, 1);
  // optional parameter of type 1 (authentication, deprecated)
  expectBgpError(() => decodeMessage(hdr(1, [4, 0xfd, 0xe8, 0, 90, 1, 1, 1, 1, 3, 1, 1, 0])), 2, 4);
});

test('RFC 7606: malformed ORIGIN, AS_PATH, NEXT_HOP, COMMUNITIES are treat-as-withdraw', () => {
  const nlri = [24, 10, 1, 2];
  const cases: number[][] = [
    [0x40, 1, 1, 7, ...ASPATH_EMPTY, ...NEXTHOP], // ORIGIN value 7
    [0x40, 1, 2, 0, 0, ...ASPATH_EMPTY, ...NEXTHOP], // ORIGIN length 2
    [...ORIGIN, 0x40, 2, 4, 2, 3, 0, 1, ...NEXTHOP], // AS_PATH segment overruns
    [...ORIGIN, ...ASPATH_EMPTY, 0x40, 3, 3, 10, 0, 0], // NEXT_HOP length 3
    [...ORIGIN, ...ASPATH_EMPTY, ...NEXTHOP, 0xc0, 8, 3, 1, 2, 3], // COMMUNITIES length 3
    [...ORIGIN, ...ASPATH_EMPTY, ...NEXTHOP, 0x40, 8, 4, 1, 2, 3, 4], // COMMUNITIES flags
    [...ASPATH_EMPTY, ...NEXTHOP], // missing ORIGIN
  ];
  for (const attrs of cases) {
    const u = decodeMessage(rawUpdate(attrs, nlri)) as UpdateMessage;
    assert.ok(u.treatAsWithdraw, `expected treat-as-withdraw for ${attrs}`);
    assert.deepEqual(u.nlri, ['10.1.2.0/24']);
  }
});

test('RFC 7606: malformed AGGREGATOR and ATOMIC_AGGREGATE are discarded', () => {
  const attrs = [...ORIGIN, ...ASPATH_EMPTY, ...NEXTHOP, 0xc0, 7, 3, 1, 2, 3, 0x40, 6, 1, 0];
  const u = decodeMessage(rawUpdate(attrs, [24, 10, 1, 2])) as UpdateMessage;
  assert.equal(u.treatAsWithdraw, undefined);
  assert.equal(u.discarded?.length, 2);
  assert.equal(u.attrs.aggregator, undefined);
});

test('RFC 7606: session reset cases', () => {
  // attribute list longer than the message
  expectBgpError(() => decodeMessage(hdr(2, [0, 0, 0, 50, ...ORIGIN])), 3, 1);
  // NLRI prefix length 33
  expectBgpError(
    () => decodeMessage(rawUpdate([...ORIGIN, ...ASPATH_EMPTY, ...NEXTHOP], [33, 1, 2, 3, 4, 5])),
    3,
    10,
  );
  // unrecognized well-known attribute
  expectBgpError(() => decodeMessage(rawUpdate([...ORIGIN, 0x40, 77, 0], [24, 10, 1, 2])), 3, 2);
  // MP_REACH twice
  const mp = [0x80, 14, 9, 0, 1, 1, 4, 1, 2, 3, 4, 0];
  expectBgpError(() => decodeMessage(rawUpdate([...mp, ...mp], [])), 3, 1);
  // MP_REACH IPv6 next hop length 5
  expectBgpError(
    () => decodeMessage(rawUpdate([0x80, 14, 10, 0, 2, 1, 5, 1, 2, 3, 4, 5, 0], [])),
    3,
    9,
  );
});

test('repeated non-MP attribute keeps the first', () => {
  const u = decodeMessage(
    rawUpdate([...ORIGIN, 0x40, 1, 1, 2, ...ASPATH_EMPTY, ...NEXTHOP], [24, 10, 1, 2]),
  ) as UpdateMessage;
  assert.equal(u.attrs.origin, 0);
  assert.deepEqual(u.discarded, ['repeated ORIGIN']);
});

test('fuzz: random bytes decode or raise BgpError, never anything else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, as4) => {
      try {
        decodeMessage(bytes, { as4 });
      } catch (e) {
        if (!(e instanceof BgpError)) throw e;
      }
    }),
    { numRuns: 3000 },
  );
});

test('fuzz: random bodies behind a valid header decode or raise BgpError', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5 }),
      fc.uint8Array({ maxLength: 400 }),
      fc.boolean(),
      (type, body, as4) => {
        try {
          decodeMessage(hdr(type, [...body]), { as4 });
        } catch (e) {
          if (!(e instanceof BgpError)) throw e;
          assert.ok(e.code >= 1 && e.code <= 3, `unexpected code ${e.code}`);
        }
      },
    ),
    { numRuns: 5000 },
  );
});

test('fuzz: mutated valid UPDATEs decode or raise BgpError', () => {
  const base = encodeAnnounce(
    1,
    ['10.0.0.0/24', '10.0.1.0/24'],
    { origin: 0, asPath: [{ type: 2, asns: [1, 2] }], nextHop: '1.1.1.1', communities: [5] },
    AS4,
  )[0]!;
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(base.length - 20), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      }),
      (muts) => {
        const b = Buffer.from(base);
        for (const [i, v] of muts) b[19 + i] = v;
        try {
          const m = decodeMessage(b);
          assert.equal(m.type, 'update');
        } catch (e) {
          if (!(e instanceof BgpError)) throw e;
          assert.equal(e.code, 3);
        }
      },
    ),
    { numRuns: 3000 },
  );
});

test('property: UPDATE encode/decode round trip', () => {
  const v4prefix = fc
    .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }))
    .map(([a, l]) => {
      const m = l === 0 ? 0 : (a & ~(0xffffffff >>> l)) >>> 0;
      return canonicalPrefix(`${m >>> 24}.${(m >>> 16) & 255}.${(m >>> 8) & 255}.${m & 255}/${l}`);
    });
  fc.assert(
    fc.property(
      fc.array(v4prefix, { maxLength: 50 }),
      fc.array(v4prefix, { minLength: 1, maxLength: 50 }),
      fc.array(fc.integer({ min: 1, max: 0xffffffff }), { maxLength: 10 }),
      fc.option(fc.nat()),
      (withdrawn, nlri, asns, med) => {
        const u: UpdateMessage = {
          type: 'update',
          withdrawn,
          nlri,
          attrs: {
            origin: 2,
            asPath: asns.length ? [{ type: 2, asns }] : [],
            nextHop: '192.0.2.1',
            ...(med === null ? {} : { med }),
          },
        };
        const d = decodeMessage(encodeUpdateMessage(u, AS4), AS4) as UpdateMessage;
        assert.deepEqual(d.withdrawn, withdrawn);
        assert.deepEqual(d.nlri, nlri);
        assert.deepEqual(d.attrs, u.attrs);
      },
    ),
    { numRuns: 500 },
  );
});
