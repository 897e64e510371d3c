import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedBackend } from './index.js';
import { runConformance, type Store } from './testdata/conformance.js';
import { runResourceConformance } from './testdata/resources-suite.js';

async function setup(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'calico-ts-embedded-'));
  return {
    open: async () => new EmbeddedBackend({ path: join(dir, 'calico.db') }),
    childEnv: { DATASTORE_TYPE: 'embedded', CALICO_DATA_DIR: dir },
    teardown: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

runConformance('embedded (SQLite)', setup);
runResourceConformance('embedded (SQLite)', setup);
