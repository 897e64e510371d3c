// A raw BGP peer written here (our own test peer, over loopback) sends malformed
// UPDATEs to a real speaker: RFC 7606 treat-as-withdraw keeps the session up, while a
// malformed NLRI field resets it with the right NOTIFICATION.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import {
  type BgpMessage,
  decodeMessage,
  encodeAnnounce,
  encodeKeepalive,
  encodeOpen,
  type NotificationMessage,
} from './codec.js';
import { BgpSpeaker } from './speaker.js';
import type { RouteProgrammer } from './types.js';

class MemProgrammer implements RouteProgrammer {
  readonly routes = new Map<string, string[]>();
  replaceRoute(prefix: string, nextHops: string[]): void {
    this.routes.set(prefix, nextHops);
  }
  deleteRoute(prefix: string): void {
    this.routes.delete(prefix);
  }
  resyncDone(): void {}
}

async function waitFor(what: string, fn: () => boolean, timeoutMs = 10000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

class RawPeer {
  readonly received: BgpMessage[] = [];
  closed = false;
  private buf = Buffer.alloc(0);
  constructor(readonly sock: Socket) {
    sock.on('data', (b: Buffer) => {
      this.buf = Buffer.concat([this.buf, b]);
      while (this.buf.length >= 19) {
        const len = this.buf.readUInt16BE(16);
        if (this.buf.length < len) break;
        this.received.push(decodeMessage(this.buf.subarray(0, len)));
        this.buf = this.buf.subarray(len);
      }
    });
    sock.on('close', () => {
      this.closed = true;
    });
    sock.on('error', () => {});
  }
  send(b: Uint8Array): void {
    this.sock.write(b);
  }
}

/** UPDATE with hand-made attribute bytes and one IPv4 NLRI. */
function rawUpdate(attrs: number[], nlri: number[]): Buffer {
  const body = [0, 0, attrs.length >> 8, attrs.length & 0xff, ...attrs, ...nlri];
  const b = Buffer.alloc(19 + body.length, 0xff);
  b.writeUInt16BE(19 + body.length, 16);
  b[18] = 2;
  Buffer.from(body).copy(b, 19);
  return b;
}

const ORIGIN = [0x40, 1, 1, 0];
const ASPATH = [0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9]; // AS_SEQUENCE [65001]
const NEXTHOP = [0x40, 3, 4, 127, 0, 12, 2];

test('malformed attributes are treat-as-withdraw and the session stays up; bad NLRI resets', async (t) => {
  const prog = new MemProgrammer();
  const sp = new BgpSpeaker({
    routerId: '127.0.12.1',
    asNumber: 65000,
    listenAddress: '127.0.12.1',
    listenPort: 0,
    routeProgrammer: prog,
    peers: [{ address: '127.0.12.2', asNumber: 65001, passive: true, holdTime: 30 }],
  });
  await sp.start();
  const sock = connect({ host: '127.0.12.1', port: sp.listenPort!, localAddress: '127.0.12.2' });
  const peer = new RawPeer(sock);
  t.after(async () => {
    sock.destroy();
    await sp.stop();
  });
  await new Promise<void>((r) => sock.once('connect', () => r()));
  peer.send(
    encodeOpen({
      localAs: 65001,
      holdTime: 30,
      bgpId: '127.0.12.2',
      families: [{ afi: 1, safi: 1 }],
    }),
  );
  await waitFor('OPEN and KEEPALIVE from speaker', () =>
    peer.received.some((m) => m.type === 'keepalive'),
  );
  peer.send(encodeKeepalive());
  await waitFor('established', () => sp.status()[0]!.bgpState === 'Established');

  const good = () =>
    encodeAnnounce(
      1,
      ['10.120.0.0/24'],
      { origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '127.0.12.2' },
      { as4: true },
    )[0]!;
  peer.send(good());
  await waitFor('route installed', () => prog.routes.has('10.120.0.0/24'));

  // COMMUNITIES with length 3: RFC 7606 §7.8 treat-as-withdraw.
  peer.send(rawUpdate([...ORIGIN, ...ASPATH, ...NEXTHOP, 0xc0, 8, 3, 1, 2, 3], [24, 10, 120, 0]));
  await waitFor('route withdrawn', () => !prog.routes.has('10.120.0.0/24'));
  assert.equal(sp.status()[0]!.bgpState, 'Established');
  assert.equal(peer.closed, false);
  assert.ok(!peer.received.some((m) => m.type === 'notification'));

  // ORIGIN with an invalid value for a new prefix: never installed, session still up.
  peer.send(rawUpdate([0x40, 1, 1, 9, ...ASPATH, ...NEXTHOP], [24, 10, 121, 0]));
  // ATOMIC_AGGREGATE with a length: attribute-discard, the route itself is fine.
  peer.send(rawUpdate([...ORIGIN, ...ASPATH, ...NEXTHOP, 0x40, 6, 1, 0], [24, 10, 122, 0]));
  peer.send(good());
  await waitFor('route back after a good UPDATE', () => prog.routes.has('10.120.0.0/24'));
  await waitFor('discarded-attribute route installed', () => prog.routes.has('10.122.0.0/24'));
  assert.equal(prog.routes.has('10.121.0.0/24'), false);
  assert.equal(sp.status()[0]!.bgpState, 'Established');

  // A prefix length of 33 makes the NLRI field unparseable: session reset, 3/10.
  peer.send(rawUpdate([...ORIGIN, ...ASPATH, ...NEXTHOP], [33, 10, 0, 0, 0, 0]));
  await waitFor('NOTIFICATION', () => peer.received.some((m) => m.type === 'notification'));
  const n = peer.received.find((m) => m.type === 'notification') as NotificationMessage;
  assert.deepEqual([n.code, n.subcode], [3, 10]);
  await waitFor('routes of the reset session withdrawn', () => prog.routes.size === 0);
  assert.notEqual(sp.status()[0]!.bgpState, 'Established');
});

test('an UPDATE before the session is established is an FSM error', async (t) => {
  const sp = new BgpSpeaker({
    routerId: '127.0.13.1',
    asNumber: 65000,
    listenAddress: '127.0.13.1',
    listenPort: 0,
    peers: [{ address: '127.0.13.2', asNumber: 65001, passive: true }],
  });
  await sp.start();
  const sock = connect({ host: '127.0.13.1', port: sp.listenPort!, localAddress: '127.0.13.2' });
  const peer = new RawPeer(sock);
  t.after(async () => {
    sock.destroy();
    await sp.stop();
  });
  await new Promise<void>((r) => sock.once('connect', () => r()));
  peer.send(encodeKeepalive());
  await waitFor('NOTIFICATION', () => peer.received.some((m) => m.type === 'notification'));
  const n = peer.received.find((m) => m.type === 'notification') as NotificationMessage;
  assert.deepEqual([n.code, n.subcode], [5, 1]);
});
