import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  asNumberProblem,
  canonicalProtocol,
  communityValueProblem,
  dnsLabel,
  dnsSubdomain,
  goDuration,
  interfaceName,
  labelValue,
  parsePort,
  protocolNumber,
  qualifiedName,
  selectorProblem,
} from './formats.js';
import {
  globalPolicyName,
  namespacedPolicyName,
  parsePeerIP,
  workloadEndpointName,
} from './index.js';

const ok = (p: unknown) => assert.equal(p, undefined);
const bad = (p: { rule: string } | undefined, rule: string) => assert.equal(p?.rule, rule);

describe('names', () => {
  test('DNS subdomains and labels', () => {
    ok(dnsSubdomain('a.b-c.d1'));
    bad(dnsSubdomain('A'), 'name-format');
    bad(dnsSubdomain('-a'), 'name-format');
    bad(dnsSubdomain('a..b'), 'name-format');
    bad(dnsSubdomain(''), 'name-empty');
    ok(dnsSubdomain('a'.repeat(253)));
    bad(dnsSubdomain('a'.repeat(254)), 'name-too-long');
    ok(dnsLabel('a'.repeat(63)));
    bad(dnsLabel('a.b'), 'name-format');
  });

  test('policy names (calico-semantics.md §3 examples)', () => {
    ok(namespacedPolicyName('th.ing'));
    ok(namespacedPolicyName('knp.default.thing'));
    ok(namespacedPolicyName('ossg.default.th.ing'));
    bad(namespacedPolicyName('t.h.i.ng'), 'name-dots');
    bad(namespacedPolicyName('tHiNg'), 'name-format');
    ok(globalPolicyName('tier.name'));
    bad(globalPolicyName('knp.default.thing'), 'name-dots');
  });

  test('workload endpoint names double dashes inside components', () => {
    assert.equal(
      workloadEndpointName({
        node: 'node-1',
        orchestrator: 'k8s',
        workload: 'my-pod',
        endpoint: 'eth0',
      }),
      'node--1-k8s-my--pod-eth0',
    );
  });
});

describe('labels', () => {
  test('keys and values (§3 examples)', () => {
    ok(qualifiedName('projectcalico.org/namespace'));
    ok(qualifiedName('app'));
    ok(qualifiedName('My_Label.x'));
    bad(qualifiedName('.mylabel'), 'label-key');
    bad(qualifiedName('my!nvalid-label'), 'label-key');
    bad(qualifiedName('ProjectCalico.org/label'), 'label-key');
    ok(qualifiedName('ProjectCalico.org/label', false));
    bad(qualifiedName('a/'), 'label-key');
    bad(qualifiedName('a'.repeat(64)), 'label-key');
    ok(labelValue(''));
    ok(labelValue('a'.repeat(63)));
    bad(labelValue('a'.repeat(64)), 'label-value');
    bad(labelValue('a/b'), 'label-value');
  });
});

describe('interfaces, durations', () => {
  test('interface names', () => {
    ok(interfaceName('cali0123456789a'));
    ok(interfaceName('eth0.100'));
    bad(interfaceName('cali0123456789ab'), 'interface-name');
    bad(interfaceName(''), 'interface-name');
    bad(interfaceName('eth 0'), 'interface-name');
  });
  test('Go durations', () => {
    for (const d of ['0', '90s', '5m', '1h30m', '1.5s', '300ms', '2us', '2\u00b5s', '2\u03bcs'])
      ok(goDuration(d));
    for (const d of ['', '5', 'm', '1 h', '1d', '2\u00b5', '2\u00b5m'])
      bad(goDuration(d), 'duration');
  });
});

describe('protocols', () => {
  test('names are case-insensitive and normalised; numbers 1-255', () => {
    assert.equal(canonicalProtocol('tcp'), 'TCP');
    assert.equal(canonicalProtocol('icmpv6'), 'ICMPv6');
    assert.equal(canonicalProtocol('UDPLITE'), 'UDPLite');
    assert.equal(canonicalProtocol(1), 1);
    assert.equal(canonicalProtocol('255'), '255');
    for (const p of [0, 256, 'tcpfoo', 'footcp', '0', '256', 1.5, ''])
      assert.equal(canonicalProtocol(p), undefined);
    assert.equal(protocolNumber('sctp'), 132);
    assert.equal(protocolNumber('17'), 17);
    assert.equal(protocolNumber('ICMPv6'), 58);
  });
});

describe('ports', () => {
  test('ints, ranges, numeric strings and named ports', () => {
    assert.deepEqual(parsePort(80), { kind: 'number', min: 80, max: 80 });
    assert.deepEqual(parsePort('80'), { kind: 'number', min: 80, max: 80 });
    assert.deepEqual(parsePort('80:90'), { kind: 'number', min: 80, max: 90 });
    assert.deepEqual(parsePort('1:65535'), { kind: 'number', min: 1, max: 65535 });
    assert.deepEqual(parsePort('http-alt'), { kind: 'named', name: 'http-alt' });
    for (const p of [
      0,
      65536,
      1.5,
      -1,
      '0',
      '65536',
      '90:80',
      '0:5',
      '1:2:3',
      ':80',
      '80:',
      'a b',
      'x'.repeat(129),
    ])
      assert.ok('rule' in parsePort(p), String(p));
  });
});

describe('selectors', () => {
  test('global() placement and length', () => {
    ok(selectorProblem('global()', 'rule-namespace'));
    ok(selectorProblem('  global()  ', 'rule-namespace'));
    bad(selectorProblem('global() && all()', 'rule-namespace'), 'selector-global');
    bad(selectorProblem('global() || all()', 'rule-namespace'), 'selector-global');
    bad(selectorProblem('global()'), 'selector-global');
    ok(selectorProblem(''));
    ok(selectorProblem(`a == "${'x'.repeat(1017)}"`));
    bad(selectorProblem(`a == "${'x'.repeat(1018)}"`), 'selector-too-long');
    const p = selectorProblem('a == "b" &&');
    assert.equal(p?.rule, 'selector-syntax');
    assert.match(p!.message, /at column 12/);
  });
});

describe('BGP values', () => {
  test('AS numbers', () => {
    ok(asNumberProblem(0));
    ok(asNumberProblem(4294967295));
    ok(asNumberProblem('64512'));
    ok(asNumberProblem('1.10'));
    bad(asNumberProblem(4294967296), 'as-number');
    bad(asNumberProblem('65536.1'), 'as-number');
    bad(asNumberProblem(-1), 'as-number');
    bad(asNumberProblem('x'), 'as-number');
  });
  test('communities', () => {
    ok(communityValueProblem('65535:65535'));
    ok(communityValueProblem('4294967295:0:4294967295'));
    bad(communityValueProblem('65536:1'), 'community-value');
    bad(communityValueProblem('4294967296:0:0'), 'community-value');
    bad(communityValueProblem('1'), 'community-value');
    bad(communityValueProblem('a:b'), 'community-value');
  });
  test('peerIP forms (§3 examples)', () => {
    assert.deepEqual(parsePeerIP('10.0.0.1'), { ip: '10.0.0.1', family: 4 });
    assert.deepEqual(parsePeerIP('10.0.0.2:4444'), { ip: '10.0.0.2', family: 4, port: 4444 });
    assert.deepEqual(parsePeerIP('[fd00::1]:4444'), { ip: 'fd00::1', family: 6, port: 4444 });
    assert.deepEqual(parsePeerIP('fd00::1'), { ip: 'fd00::1', family: 6 });
    for (const p of [
      '999.999.999.999',
      '10.0.0.1:0',
      '10.0.0.1:65536',
      ':4444',
      '[fd00::1]',
      '[10.0.0.1]:x',
      'host:1',
    ])
      assert.ok('rule' in parsePeerIP(p), p);
  });
});
