// A child process of the CAS conformance test: opens the datastore named by the
// environment, waits for "go" on stdin (so all workers contend at once), then tries
// ATTEMPTS increments of one counter by compare-and-swap and reports how many won.
// The counter is {n, by}: the parent attributes every increment it watches to a worker.
import { createInterface } from 'node:readline';
// Imported from the files, not index.js: the resource client would load the api
// component (zod and every schema), tripling start-up CPU for 16 processes.
import { loadDatastoreConfig, openBackend } from '../config.js';
import { DatastoreError } from '../errors.js';

const key = process.env.CAS_KEY!;
const me = process.env.CAS_WORKER!;
const attempts = Number(process.env.CAS_ATTEMPTS ?? '20');
const backend = await openBackend(loadDatastoreConfig(process.env));
const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
for await (const line of lines) if (line === 'go') break;

let won = 0;
let conflicts = 0;
let unavailable = 0;
for (let i = 0; i < attempts; i++) {
  const cur = await backend.get(key);
  if (cur === undefined) throw new Error(`counter ${key} missing`);
  try {
    const n = (JSON.parse(cur.value) as { n: number }).n + 1;
    await backend.update(key, JSON.stringify({ n, by: me }), cur.modRevision);
    won++;
  } catch (err) {
    if (!(err instanceof DatastoreError)) throw err;
    if (err.code === 'CONFLICT') conflicts++;
    // A timed-out update may or may not have been applied; the parent settles it from
    // the watched history.
    else if (err.code === 'UNAVAILABLE') unavailable++;
    else throw err;
  }
}
process.stdout.write(`${JSON.stringify({ won, conflicts, unavailable })}\n`);
lines.close();
await backend.close();
