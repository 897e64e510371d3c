// RFC 7911 in the codec: path identifiers before each prefix in the NLRI, withdrawn and
// MP fields of the families negotiated for them, keyed "prefix#pathId".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeMessage,
  encodeAnnounce,
  encodeOpen,
  encodeWithdraw,
  type OpenMessage,
  type UpdateMessage,
} from './codec.js';
import { BgpError } from './errors.js';

const attrs = { origin: 0, asPath: [], nextHop: '10.0.0.1', localPref: 100 };

test('ADD-PATH: path identifiers round-trip for IPv4 and IPv6, announce and withdraw', () => {
  const ctx = { as4: true, addPathRx: new Set([1, 2]) };
  const keys = ['10.9.9.9/32#1', '10.9.9.9/32#7', '10.8.0.0/16#4294967295'];
  const [a] = encodeAnnounce(1, keys, attrs, ctx);
  assert.deepEqual((decodeMessage(a!, ctx) as UpdateMessage).nlri, keys);
  const [w] = encodeWithdraw(1, ['10.9.9.9/32#7']);
  assert.deepEqual((decodeMessage(w!, ctx) as UpdateMessage).withdrawn, ['10.9.9.9/32#7']);
  const [a6] = encodeAnnounce(2, ['fd00::/64#2', 'fd00::/64#3'], attrs, ctx, ['fd00::1']);
  assert.deepEqual((decodeMessage(a6!, ctx) as UpdateMessage).mpReach?.nlri, [
    'fd00::/64#2',
    'fd00::/64#3',
  ]);
  const [w6] = encodeWithdraw(2, ['fd00::/64#3']);
  assert.deepEqual((decodeMessage(w6!, ctx) as UpdateMessage).mpUnreach?.withdrawn, [
    'fd00::/64#3',
  ]);
  // A family without ADD-PATH still decodes plain prefixes.
  const [plain] = encodeAnnounce(1, ['10.7.0.0/16'], attrs, ctx);
  const only6 = { as4: true, addPathRx: new Set([2]) };
  assert.deepEqual((decodeMessage(plain!, only6) as UpdateMessage).nlri, ['10.7.0.0/16']);
});

test('ADD-PATH: a path identifier without its prefix is a malformed NLRI field', () => {
  const ctx = { as4: true, addPathRx: new Set([1]) };
  const [a] = encodeAnnounce(1, ['10.9.9.9/32#1'], attrs, ctx);
  // Cut the last prefix down to its path identifier: 4 id octets, no length octet.
  const cut = Buffer.from(a!.subarray(0, a!.length - 5));
  cut.writeUInt16BE(cut.length, 16);
  assert.throws(
    () => decodeMessage(cut, ctx),
    (e: unknown) => e instanceof BgpError && /NLRI/.test(e.message),
  );
});

test('ADD-PATH: the OPEN carries capability 69 per family', () => {
  const open = encodeOpen({
    localAs: 64512,
    holdTime: 90,
    bgpId: '10.0.0.1',
    families: [
      { afi: 1, safi: 1 },
      { afi: 2, safi: 1 },
    ],
    addPath: {
      families: [
        { afi: 1, safi: 1, sendReceive: 3 },
        { afi: 2, safi: 1, sendReceive: 1 },
      ],
    },
  });
  const m = decodeMessage(open) as OpenMessage;
  assert.deepEqual(m.capabilities.addPath?.families, [
    { afi: 1, safi: 1, sendReceive: 3 },
    { afi: 2, safi: 1, sendReceive: 1 },
  ]);
});
