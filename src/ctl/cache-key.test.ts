import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cacheKey } from './cache-key.js';

describe('launcher cache key', () => {
  test('version and validate have their own cache, after any global options', () => {
    assert.equal(cacheKey(['version']), 'version');
    assert.equal(cacheKey(['validate', '-f', 'x.yaml']), 'validate');
    assert.equal(cacheKey(['-c', 'validate', 'version']), 'version');
    assert.equal(cacheKey(['--config', 'cfg', '--log-level', 'debug', 'validate']), 'validate');
    assert.equal(cacheKey(['--allow-version-mismatch', 'version', '--client']), 'version');
  });
  test('every other command line shares one cache', () => {
    assert.equal(cacheKey([]), 'any');
    assert.equal(cacheKey(['--help']), 'any');
    assert.equal(cacheKey(['apply', '-f', 'validate']), 'any');
    assert.equal(cacheKey(['get', 'version']), 'any');
    assert.equal(cacheKey(['frobnicate']), 'any');
    assert.equal(cacheKey(['--config=validate', 'get']), 'any');
  });
});
