import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AgentConfigError,
  felixOverridesFromEnv,
  loadAgentConfig,
  parseDurationMs,
} from './config.js';
import { pinoLevel, prettyLine } from './log.js';

test('defaults follow calico-node', () => {
  const c = loadAgentConfig({ NODENAME: 'n1' });
  assert.equal(c.nodeName, 'n1');
  assert.deepEqual(c.ip, { mode: 'autodetect' });
  assert.deepEqual(c.ip6, { mode: 'none' });
  assert.deepEqual(loadAgentConfig({ IP6: 'autodetect' }).ip6, { mode: 'autodetect' });
  assert.equal(c.ipv4PoolCidr, '192.168.0.0/16');
  assert.equal(c.ipv6PoolCidr, undefined);
  assert.equal(c.networkingBackend, 'builtin');
  assert.equal(c.noDefaultPools, false);
  assert.equal(c.netns, undefined);
});

test('explicit addresses, AS, pools, netns and backend', () => {
  const c = loadAgentConfig({
    NODENAME: 'n1',
    IP: '10.0.0.5/24',
    IP6: 'fd00::5',
    AS: '64512',
    CALICO_IPV6POOL_CIDR: 'fd00:10::/48',
    NO_DEFAULT_POOLS: 'true',
    CALICO_NETWORKING_BACKEND: 'none',
    CALICO_NETNS: 'lab-host',
  });
  assert.deepEqual(c.ip, { mode: 'explicit', cidr: '10.0.0.5/24' });
  assert.deepEqual(c.ip6, { mode: 'explicit', cidr: 'fd00::5/128' });
  assert.equal(c.asNumber, 64512);
  assert.equal(c.ipv6PoolCidr, 'fd00:10::/48');
  assert.equal(c.noDefaultPools, true);
  assert.equal(c.networkingBackend, 'none');
  assert.equal(c.netns, 'lab-host');
  assert.equal(loadAgentConfig({ AS: '1.10' }).asNumber, 65546);
});

test('bad values are rejected with the variable named', () => {
  assert.throws(() => loadAgentConfig({ IP: 'fd00::1' }), AgentConfigError);
  assert.throws(() => loadAgentConfig({ AS: '0' }), /AS="0"/);
  assert.throws(() => loadAgentConfig({ CALICO_NETWORKING_BACKEND: 'bird' }), /bird/);
  assert.throws(() => loadAgentConfig({ CALICO_IPV4POOL_CIDR: 'fd00::/64' }), /IPv4/);
});

test('FELIX_* overrides map to FelixConfiguration fields with their types', () => {
  const { overrides, unknown } = felixOverridesFromEnv({
    FELIX_LOGSEVERITYSCREEN: 'Debug',
    FELIX_HEALTHPORT: '19099',
    FELIX_HEALTHENABLED: 'false',
    FELIX_DEFAULTENDPOINTTOHOSTACTION: 'Accept',
    FELIX_REPORTINGINTERVAL: '10s',
    FELIX_NOSUCHTHING: 'x',
  });
  assert.deepEqual(overrides, {
    logSeverityScreen: 'Debug',
    healthPort: 19099,
    healthEnabled: false,
    defaultEndpointToHostAction: 'Accept',
    reportingInterval: '10s',
  });
  assert.deepEqual(unknown, ['FELIX_NOSUCHTHING']);
});

test('durations as Felix writes them', () => {
  assert.equal(parseDurationMs('30s', 0), 30000);
  assert.equal(parseDurationMs('1m30s', 0), 90000);
  assert.equal(parseDurationMs('500ms', 0), 500);
  assert.equal(parseDurationMs('90', 0), 90000);
  assert.equal(parseDurationMs('soon', 7), 7);
  assert.equal(parseDurationMs(undefined, 7), 7);
});

test('log levels and the terminal formatter', () => {
  assert.equal(pinoLevel('Warning'), 'warn');
  assert.equal(pinoLevel('None'), 'silent');
  assert.equal(pinoLevel('Loud'), undefined);
  const line = prettyLine('{"level":40,"time":0,"pid":1,"msg":"hello","node":"n1"}');
  assert.equal(line, '00:00:00.000 WARN  hello node=n1\n');
});

test('BGP status file and hold time (calico-ts extensions)', () => {
  const d = loadAgentConfig({ NODENAME: 'n1' });
  assert.equal(d.bgpStatusFile, '/var/run/calico/bgp-status.json');
  assert.equal(d.bgpHoldTime, undefined);
  const c = loadAgentConfig({
    NODENAME: 'n1',
    CALICO_BGP_STATUS_FILE: '/tmp/x/bgp.json',
    CALICO_BGP_HOLD_TIME: '3',
  });
  assert.equal(c.bgpStatusFile, '/tmp/x/bgp.json');
  assert.equal(c.bgpHoldTime, 3);
  assert.equal(loadAgentConfig({ CALICO_BGP_HOLD_TIME: '0' }).bgpHoldTime, 0);
  for (const bad of ['2', '1.5', 'x', '70000'])
    assert.throws(
      () => loadAgentConfig({ CALICO_BGP_HOLD_TIME: bad }),
      (e: unknown) =>
        e instanceof AgentConfigError && e.message.includes(`CALICO_BGP_HOLD_TIME="${bad}"`),
    );
});
