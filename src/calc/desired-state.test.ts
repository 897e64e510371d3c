import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyDesiredStateUpdate, DesiredStateError, emptyDesiredState } from './desired-state.js';

test('IP set deltas apply on top of the full update', () => {
  const s = emptyDesiredState();
  applyDesiredStateUpdate(s, {
    type: 'ipSetUpdate',
    id: 's:a',
    setType: 'net',
    members: ['10.0.0.1/32'],
  });
  applyDesiredStateUpdate(s, {
    type: 'ipSetDelta',
    id: 's:a',
    added: ['10.0.0.2/32'],
    removed: ['10.0.0.1/32'],
  });
  assert.deepEqual([...s.ipSets.get('s:a')!.members], ['10.0.0.2/32']);
  applyDesiredStateUpdate(s, { type: 'ipSetRemove', id: 's:a' });
  assert.equal(s.ipSets.size, 0);
});

test('a delta for an unknown IP set is a sequencing error', () => {
  const s = emptyDesiredState();
  assert.throws(
    () => applyDesiredStateUpdate(s, { type: 'ipSetDelta', id: 's:x', added: [], removed: [] }),
    DesiredStateError,
  );
});

test('in-sync and keyed updates fold into the state', () => {
  const s = emptyDesiredState();
  assert.equal(s.inSync, false);
  applyDesiredStateUpdate(s, {
    type: 'routeUpdate',
    route: { dst: '10.65.0.0/26', type: 'local-block' },
  });
  applyDesiredStateUpdate(s, { type: 'inSync' });
  assert.equal(s.inSync, true);
  assert.equal(s.routes.get('10.65.0.0/26')?.type, 'local-block');
  applyDesiredStateUpdate(s, { type: 'routeRemove', dst: '10.65.0.0/26' });
  assert.equal(s.routes.size, 0);
});
