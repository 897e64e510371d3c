// `calicoctl node status` text, byte for byte as Calico prints it, and the status file.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatNodeStatus, formatSince, readNodeStatus, writeNodeStatus } from './node-status.js';
import type { PeerStatus } from './types.js';

const now = new Date('2026-11-26T12:00:00Z');

function status(
  address: string,
  type: PeerStatus['type'],
  bgpState: PeerStatus['bgpState'],
  since: string,
  info: string = bgpState,
): PeerStatus {
  const prefix = type === 'node-to-node mesh' ? 'Mesh' : type === 'global' ? 'Global' : 'Node';
  return {
    address,
    name: `${prefix}_${address.replace(/[.:]/g, '_')}`,
    type,
    asNumber: 64512,
    state: bgpState === 'Established' ? 'up' : 'start',
    since: new Date(since),
    bgpState,
    info,
    routesReceived: 0,
    routesExported: 0,
    families: [address.includes(':') ? 'ipv6' : 'ipv4'],
  };
}

test("one mesh peer: Calico's documented table exactly", () => {
  const text = formatNodeStatus(
    [status('10.200.2.2', 'node-to-node mesh', 'Established', '2026-11-26T09:41:07Z')],
    4,
    { now, utc: true },
  );
  assert.equal(
    text,
    [
      'IPv4 BGP status',
      '+--------------+-------------------+-------+----------+-------------+',
      '| PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |    INFO     |',
      '+--------------+-------------------+-------+----------+-------------+',
      '| 10.200.2.2   | node-to-node mesh | up    | 09:41:07 | Established |',
      '+--------------+-------------------+-------+----------+-------------+',
      '',
      '',
    ].join('\n'),
  );
});

test('mixed peers: mesh, global, node specific; widths follow the longest cell', () => {
  const peers = [
    status(
      '192.0.2.1',
      'global',
      'Active',
      '2026-11-25T23:00:00Z',
      'Active Socket: Connection refused',
    ),
    status('10.0.0.10', 'node-to-node mesh', 'Established', '2026-11-26T10:00:00Z'),
    status('192.0.2.2', 'node specific', 'Established', '2026-11-26T11:00:00Z'),
    status('10.0.0.9', 'node-to-node mesh', 'Connect', '2026-11-26T10:00:01Z'),
    status('fd00::2', 'node-to-node mesh', 'Established', '2026-11-26T10:00:00Z'),
  ];
  assert.equal(
    formatNodeStatus(peers, 4, { now, utc: true }),
    [
      'IPv4 BGP status',
      '+--------------+-------------------+-------+------------+-----------------------------------+',
      '| PEER ADDRESS |     PEER TYPE     | STATE |   SINCE    |               INFO                |',
      '+--------------+-------------------+-------+------------+-----------------------------------+',
      '| 10.0.0.10    | node-to-node mesh | up    | 10:00:00   | Established                       |',
      '| 10.0.0.9     | node-to-node mesh | start | 10:00:01   | Connect                           |',
      '| 192.0.2.1    | global            | start | 2026-11-25 | Active Socket: Connection refused |',
      '| 192.0.2.2    | node specific     | up    | 11:00:00   | Established                       |',
      '+--------------+-------------------+-------+------------+-----------------------------------+',
      '',
      '',
    ].join('\n'),
  );
  assert.equal(
    formatNodeStatus(peers, 6, { now, utc: true }),
    [
      'IPv6 BGP status',
      '+--------------+-------------------+-------+----------+-------------+',
      '| PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |    INFO     |',
      '+--------------+-------------------+-------+----------+-------------+',
      '| fd00::2      | node-to-node mesh | up    | 10:00:00 | Established |',
      '+--------------+-------------------+-------+----------+-------------+',
      '',
      '',
    ].join('\n'),
  );
});

test('no peers of a family', () => {
  assert.equal(formatNodeStatus([], 4), 'IPv4 BGP status\nNo IPv4 peers found.\n');
  assert.equal(
    formatNodeStatus([status('10.0.0.1', 'global', 'Idle', '2026-11-26T00:00:00Z')], 6),
    'IPv6 BGP status\nNo IPv6 peers found.\n',
  );
});

test('since: time of day today, the date before', () => {
  assert.equal(formatSince(new Date('2026-11-26T00:00:09Z'), now, true), '00:00:09');
  assert.equal(formatSince(new Date('2026-01-02T23:59:59Z'), now, true), '2026-01-02');
});

test('status file: written atomically, read back with dates; absent file is undefined', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-status-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'bgp-status.json');
  assert.equal(readNodeStatus(path), undefined);
  const peers = [status('10.0.0.2', 'node-to-node mesh', 'Established', '2026-11-26T09:41:07Z')];
  writeNodeStatus(path, peers, now);
  assert.deepEqual(readdirSync(dir), ['bgp-status.json']);
  const got = readNodeStatus(path)!;
  assert.equal(got.pid, process.pid);
  assert.deepEqual(got.updated, now);
  assert.deepEqual(got.peers, peers);
  writeFileSync(path, '{"peers": 3}');
  assert.throws(() => readNodeStatus(path), SyntaxError);
  writeFileSync(path, 'nope');
  assert.throws(() => readNodeStatus(path), /is not JSON/);
});
