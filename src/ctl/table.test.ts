import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tableFor } from './columns.js';
import { formatBorderedTable, formatTable } from './table.js';

test('ps tables pad columns like tabwriter (minwidth 5, padding 3) with no trailing spaces', () => {
  const out = formatTable(
    ['NAME', 'CIDR', 'SELECTOR'],
    [
      ['default-ipv4-ippool', '192.168.0.0/16', 'all()'],
      ['p', '10.0.0.0/8', ''],
    ],
  );
  assert.equal(
    out,
    'NAME                  CIDR             SELECTOR\n' +
      'default-ipv4-ippool   192.168.0.0/16   all()\n' +
      'p                     10.0.0.0/8\n',
  );
});

test('short columns are at least 5 wide', () => {
  assert.equal(formatTable(['A', 'B'], [['x', 'y']]), 'A    B\nx    y\n');
});

test('an empty listing prints the header only', () => {
  assert.equal(formatTable(['NAME'], []), 'NAME\n');
});

test('bordered tables centre headers and right-align chosen columns', () => {
  const out = formatBorderedTable(
    ['GROUPING', 'CIDR', 'IPS TOTAL'],
    [['IP Pool', '10.0.0.0/16', '65536']],
    { rightAlign: [2] },
  );
  assert.equal(
    out,
    [
      '+----------+-------------+-----------+',
      '| GROUPING |    CIDR     | IPS TOTAL |',
      '+----------+-------------+-----------+',
      '| IP Pool  | 10.0.0.0/16 |     65536 |',
      '+----------+-------------+-----------+',
      '',
    ].join('\n'),
  );
});

test('per-kind columns: IPPool ps and wide, namespaced kinds lead with NAMESPACE', () => {
  const pool = {
    kind: 'IPPool',
    metadata: { name: 'p1' },
    spec: { cidr: '10.0.0.0/16', nodeSelector: 'all()', ipipMode: 'Never', vxlanMode: 'Always' },
  };
  assert.deepEqual(tableFor('IPPool', false, false, [pool]), {
    headers: ['NAME', 'CIDR', 'SELECTOR'],
    rows: [['p1', '10.0.0.0/16', 'all()']],
  });
  const wide = tableFor('IPPool', false, true, [pool]);
  assert.deepEqual(wide.headers, [
    'NAME',
    'CIDR',
    'NAT',
    'IPIPMODE',
    'VXLANMODE',
    'DISABLED',
    'DISABLEBGPEXPORT',
    'SELECTOR',
  ]);
  assert.deepEqual(wide.rows[0], [
    'p1',
    '10.0.0.0/16',
    'false',
    'Never',
    'Always',
    'false',
    'false',
    'all()',
  ]);
  const np = tableFor('NetworkPolicy', true, true, [
    {
      metadata: { name: 'a', namespace: 'prod' },
      spec: { tier: 'default', order: 10, selector: 'x == "y"' },
    },
  ]);
  assert.deepEqual(np.headers, ['NAMESPACE', 'NAME', 'TIER', 'ORDER', 'SELECTOR']);
  assert.deepEqual(np.rows[0], ['prod', 'a', 'default', '10', 'x == "y"']);
});

test('workload endpoints show spec.workload, or the name when it is empty', () => {
  const t = tableFor('WorkloadEndpoint', true, false, [
    {
      metadata: { name: 'n-k8s-a-eth0', namespace: 'ns' },
      spec: { workload: 'a', node: 'n', ipNetworks: ['10.0.0.1/32'], interfaceName: 'cali1' },
    },
    { metadata: { name: 'bare', namespace: 'ns' }, spec: { node: 'n' } },
  ]);
  assert.deepEqual(t.headers, ['NAMESPACE', 'WORKLOAD', 'NODE', 'NETWORKS', 'INTERFACE']);
  assert.deepEqual(t.rows, [
    ['ns', 'a', 'n', '10.0.0.1/32', 'cali1'],
    ['ns', 'bare', 'n', '', ''],
  ]);
});

test('kinds without their own columns show NAME (and LABELS when wide)', () => {
  const t = tableFor('FelixConfiguration', false, true, [
    { metadata: { name: 'default', labels: { a: '1', b: '2' } } },
  ]);
  assert.deepEqual(t, { headers: ['NAME', 'LABELS'], rows: [['default', 'a=1,b=2']] });
});
