// calicoctl end to end, part 1 (apply, get, selectors, round trip), on the embedded SQLite store (the bundled executable as a child process).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDatastoreConfig, openBackend } from '../datastore/index.js';
import { suite } from './testkit.js';

suite('the embedded store', 1, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctl-embedded-'));
  const env = { CALICO_DATA_DIR: dir };
  return {
    env,
    open: () => openBackend(loadDatastoreConfig(env)),
    stop: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
