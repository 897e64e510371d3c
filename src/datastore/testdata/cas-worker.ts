// A child process of the CAS conformance test: opens the datastore named by the
// environment, waits for "go" on stdin (so all workers contend at once), then tries
// ATTEMPTS increments of one counter by compare-and-swap and reports how many won.
import { createInterface } from 'node:readline';
import { DatastoreError, loadDatastoreConfig, openBackend } from '../index.js';

const key = process.env.CAS_KEY!;
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
    await backend.update(key, String(Number(cur.value) + 1), cur.modRevision);
    won++;
  } catch (err) {
    if (!(err instanceof DatastoreError)) throw err;
    if (err.code === 'CONFLICT') conflicts++;
    // A timed-out update may or may not have been applied, so it cannot be counted as
    // a win or a loss; the parent fails the test if any happen.
    else if (err.code === 'UNAVAILABLE') unavailable++;
    else throw err;
  }
}
process.stdout.write(`${JSON.stringify({ won, conflicts, unavailable })}\n`);
lines.close();
await backend.close();
