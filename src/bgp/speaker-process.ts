// Runs one BgpSpeaker as its own process from a JSON config file, so that it can live in
// a network namespace (`ip netns exec NS node --import tsx src/bgp/speaker-process.ts
// config.json`). The protocol is speaker-service.ts's; tests and the benchmark use this.
import { readFileSync } from 'node:fs';
import { runSpeakerService, type SpeakerProcessConfig } from './speaker-service.js';

const cfgPath = process.argv[2];
if (!cfgPath) {
  process.stderr.write('usage: speaker-process.ts <config.json>\n');
  process.exit(2);
}
await runSpeakerService(JSON.parse(readFileSync(cfgPath, 'utf8')) as SpeakerProcessConfig);
