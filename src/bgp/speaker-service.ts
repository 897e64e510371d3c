// One BgpSpeaker serving a controller over stdio, so that it can live in a network
// namespace of its own (Node can't switch namespaces per socket): run as
// `ip netns exec NS <program>`. Control is NDJSON: commands on stdin ({id, op, ...}),
// replies ({id, ok, result|error}) and events ({event, ...}) on stdout, logs as JSON lines
// on stderr. speaker-process.ts runs it from a config file; calico-node runs it by
// re-executing itself, with the config as the first line on stdin.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { IpRouteProgrammer } from './kernel.js';
import { NetlinkRouteProgrammer } from './netlink.js';
import { DEFAULT_STATUS_FILE, removeNodeStatus, writeNodeStatus } from './node-status.js';
import { BgpSpeaker } from './speaker.js';
import type { Logger, OriginateOptions, PeerConfig, SpeakerConfig } from './types.js';

export interface SpeakerProcessConfig
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

/**
 * Serves one speaker until a `stop` command or the end of stdin (the controller went
 * away: exit without withdrawing anything, as a graceful restart would). With
 * `config: 'stdin'` the first stdin line is the SpeakerProcessConfig.
 */
export async function runSpeakerService(config: SpeakerProcessConfig | 'stdin'): Promise<void> {
  const rl = createInterface({ input: process.stdin });
  const queued: string[] = [];
  let handleLine: ((line: string) => void) | undefined;
  let firstLine: ((line: string) => void) | undefined;
  rl.on('line', (line) => {
    if (firstLine) {
      const f = firstLine;
      firstLine = undefined;
      f(line);
    } else if (handleLine) handleLine(line);
    else queued.push(line);
  });
  let statusPath: string | null = null;
  // However we end, a status file left behind would tell `calicoctl node status` that a
  // speaker still runs; the kernel routes stay (graceful restart) either way.
  const quit = (): never => {
    if (statusPath !== null) removeNodeStatus(statusPath);
    process.exit(0);
  };
  rl.on('close', quit);
  process.once('SIGTERM', quit);
  process.once('SIGINT', quit);
  const cfg =
    config === 'stdin'
      ? await new Promise<SpeakerProcessConfig>((resolve, reject) => {
          firstLine = (line) => {
            try {
              resolve(JSON.parse(line) as SpeakerProcessConfig);
            } catch (e) {
              reject(new SyntaxError(`speaker config on stdin is not JSON: ${String(e)}`));
            }
          };
        })
      : config;

  const logger = makeLogger(cfg.logLevel ?? 'info');
  const openProgrammer = async (): Promise<
    IpRouteProgrammer | NetlinkRouteProgrammer | undefined
  > => {
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
  };
  const programmer = await openProgrammer();
  const { kernel: _k, logLevel: _l, statusFile: _s, ...speakerCfg } = cfg;
  const speaker = new BgpSpeaker({
    ...speakerCfg,
    logger,
    ...(programmer ? { routeProgrammer: programmer } : {}),
  });
  const statusFile = cfg.statusFile === undefined ? DEFAULT_STATUS_FILE : cfg.statusFile;
  statusPath = statusFile;
  let statusDirReady = false;
  // Status reporting must never take BGP down: a full disk only costs `node status`.
  const writeStatus = (): void => {
    if (statusFile === null) return;
    try {
      if (!statusDirReady) {
        mkdirSync(dirname(statusFile), { recursive: true });
        statusDirReady = true;
      }
      writeNodeStatus(statusFile, speaker.status());
    } catch (e) {
      logger.warn({ err: String(e), statusFile }, 'cannot write BGP status file');
    }
  };
  speaker.on('peerState', (s) => {
    out({ event: 'peerState', ...s });
    writeStatus();
  });
  speaker.on('resynced', () => out({ event: 'resynced' }));
  await speaker.start();
  writeStatus();
  out({ event: 'ready', port: speaker.listenPort, pid: process.pid });

  const handle = async (c: Command): Promise<unknown> => {
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
  };
  handleLine = (line: string) => {
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
  };
  for (const line of queued.splice(0)) handleLine(line);
}
