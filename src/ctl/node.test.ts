import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type PeerStatus, writeNodeStatus } from '../bgp/index.js';
import { CtlError } from './errors.js';
import { nodeStatusText } from './node.js';

const since = new Date(2026, 10, 26, 9, 30, 4);
const peer = (address: string, type: PeerStatus['type'], up: boolean): PeerStatus => ({
  address,
  name: `x_${address}`,
  type,
  asNumber: 64512,
  state: up ? 'up' : 'start',
  since,
  bgpState: up ? 'Established' : 'Active',
  info: up ? 'Established' : 'Active Socket: connect ECONNREFUSED',
  routesReceived: 1,
  routesExported: 1,
  families: ['ipv4'],
});

test('node status: Calico layout for both families from the status file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctl-node-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'bgp-status.json');
  writeNodeStatus(file, [
    peer('10.0.0.3', 'global', false),
    peer('10.0.0.2', 'node-to-node mesh', true),
  ]);
  assert.equal(
    nodeStatusText({ statusFile: file, now: since }),
    `Calico process is running.

IPv4 BGP status
+--------------+-------------------+-------+----------+-------------------------------------+
| PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |                INFO                 |
+--------------+-------------------+-------+----------+-------------------------------------+
| 10.0.0.2     | node-to-node mesh | up    | 09:30:04 | Established                         |
| 10.0.0.3     | global            | start | 09:30:04 | Active Socket: connect ECONNREFUSED |
+--------------+-------------------+-------+----------+-------------------------------------+


IPv6 BGP status
No IPv6 peers found.
`,
  );
});

test('node status: a clear error when no speaker runs here', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctl-node-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'bgp-status.json');
  assert.throws(
    () => nodeStatusText({ statusFile: file }),
    (e: unknown) =>
      e instanceof CtlError &&
      /^Calico process is not running\.\n.*no BGP status file/.test(e.message),
  );
  // A file left behind by a speaker that died without cleaning up is not a running node.
  const dead = spawnSync('true').pid;
  writeFileSync(file, JSON.stringify({ updated: new Date(), pid: dead, peers: [] }));
  assert.throws(
    () => nodeStatusText({ statusFile: file }),
    (e: unknown) =>
      e instanceof CtlError &&
      e.message.includes(`left by process ${dead}, which has exited`) &&
      e.message.startsWith('Calico process is not running.'),
  );
});
