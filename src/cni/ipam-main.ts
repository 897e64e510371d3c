// Entry point of bin/calico-ipam; see main.ts for why the commands load lazily.
import { loadCommands } from './lazy.js';
import { main } from './run.js';

await main(async () => (await loadCommands()).ipamCommand);
