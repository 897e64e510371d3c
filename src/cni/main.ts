// Entry point of bin/calico. Static imports stay tiny so VERSION answers without
// loading the datastore, IPAM or API code.
import { loadCommands } from './lazy.js';
import { main } from './run.js';

await main(async () => (await loadCommands()).calicoCommand);
