// Runs one BgpSpeaker as its own process, so that it can live in a network namespace
// (`ip netns exec NS node --import tsx src/bgp/speaker-process.ts config.json`): Node
// can't switch namespaces per socket. Control is NDJSON: commands on stdin
// ({id, op, ...}), replies ({id, ok, result|error}) and events ({event, ...}) on stdout,
// logs as JSON lines on stderr.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { IpRouteProgrammer } from './kernel.js';
import { NetlinkRouteProgrammer } from './netlink.js';
import { DEFAULT_STATUS_FILE, removeNodeStatus, writeNodeStatus } from './node-status.js';
import { BgpSpeaker } from './speaker.js';
import type { Logger, OriginateOptions, PeerConfig, SpeakerConfig } from './types.js';

interface ProcessConfig
  extends Omit<SpeakerConfig, 'routeProgrammer' | 'logger' | 'exportPolicy' | 'importPolicy'> {
  /**
   * kernel routes: protocol number (default 81) and driver (default netlink, falling back
   * to `ip -batch` if the native socket can't load); false = don't program the kernel
   */
  kernel?: { protocol?: number; driver?: 'netlink' | 'ip' } | false;
  logLevel?: 'debug' | 'info' | 'warn';
  /** peer statuses for `calicoctl node status`; default DEFAULT_STATUS_FILE, null = none */
  statusFile?: string | null;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 };

function makeLogger(level: keyof typeof LEVELS): Logger {
  const min = LEVELS[level];
  const log = (lvl: keyof typeof LEVELS) => (obj: object, msg: string) => {
    if (LEVELS[lvl] >= min) {
      process.stderr.write(
        `${JSON.stringify({ t: new Date().toISOString(), level: lvl, msg, ...obj })}\n`,
      );
    }
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

function out(obj: object): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

const cfgPath = process.argv[2];
if (!cfgPath) {
  process.stderr.write('usage: speaker-process.ts <config.json>\n');
  process.exit(2);
}
const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as ProcessConfig;
const logger = makeLogger(cfg.logLevel ?? 'info');
async function openProgrammer(): Promise<IpRouteProgrammer | NetlinkRouteProgrammer | undefined> {
  if (cfg.kernel === false) return undefined;
  const protocol = cfg.kernel?.protocol;
  if (cfg.kernel?.driver !== 'ip') {
    try {
      return await NetlinkRouteProgrammer.open({ ...(protocol ? { protocol } : {}), logger });
    } catch (e) {
      logger.warn({ err: String(e) }, 'netlink route programmer unavailable; using ip -batch');
    }
  }
  return IpRouteProgrammer.open({ ...(protocol ? { protocol } : {}), logger });
}
const programmer = await openProgrammer();
const speaker = new BgpSpeaker({
  ...cfg,
  logger,
  ...(programmer ? { routeProgrammer: programmer } : {}),
});
const statusFile = cfg.statusFile === undefined ? DEFAULT_STATUS_FILE : cfg.statusFile;
// Status reporting must never take BGP down: a full disk only costs `node status`.
function writeStatus(): void {
  if (statusFile === null) return;
  try {
    writeNodeStatus(statusFile, speaker.status());
  } catch (e) {
    logger.warn({ err: String(e), statusFile }, 'cannot write BGP status file');
  }
}
speaker.on('peerState', (s) => {
  out({ event: 'peerState', ...s });
  writeStatus();
});
speaker.on('resynced', () => out({ event: 'resynced' }));
await speaker.start();
writeStatus();
out({ event: 'ready', port: speaker.listenPort });

interface Command {
  id: number;
  op: string;
  prefix?: string;
  prefixes?: string[];
  options?: OriginateOptions;
  address?: string;
  peer?: PeerConfig;
  graceful?: boolean;
}

async function handle(c: Command): Promise<unknown> {
  switch (c.op) {
    case 'originate':
      for (const p of c.prefixes ?? [c.prefix!]) speaker.originate(p, c.options);
      return null;
    case 'withdraw':
      for (const p of c.prefixes ?? [c.prefix!]) speaker.withdraw(p);
      return null;
    case 'status':
      return speaker.status();
    case 'routes':
      return speaker.routes();
    case 'refresh':
      return speaker.refresh(c.address!);
    case 'addPeer':
      speaker.addPeer(c.peer!);
      writeStatus();
      return null;
    case 'removePeer':
      speaker.removePeer(c.address!);
      writeStatus();
      return null;
    case 'memory': {
      // With --expose-gc the figures describe live data rather than uncollected garbage.
      const gc = (globalThis as { gc?: () => void }).gc;
      if (c.graceful === undefined && gc) gc();
      return process.memoryUsage();
    }
    case 'stop':
      await speaker.stop({ graceful: c.graceful === true });
      await programmer?.close();
      if (statusFile !== null) removeNodeStatus(statusFile);
      out({ id: c.id, ok: true, result: null });
      process.exit(0);
      return null;
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (!line.trim()) return;
  let cmd: Command;
  try {
    cmd = JSON.parse(line) as Command;
  } catch {
    out({ ok: false, error: `bad command line: ${line.slice(0, 200)}` });
    return;
  }
  handle(cmd).then(
    (result) => out({ id: cmd.id, ok: true, result }),
    (e: unknown) => out({ id: cmd.id, ok: false, error: String(e) }),
  );
});
// The controlling test going away ends us too; a graceful stop is a separate command.
rl.on('close', () => process.exit(0));
