// `calicoctl node status`: Calico's BGP peers table for this host. Calico asks BIRD over
// its control socket; our speaker runs inside calico-node (often in another network
// namespace), so it publishes its peers in a status file instead and we read that.
import { DEFAULT_STATUS_FILE, formatNodeStatus, readNodeStatus } from '../bgp/index.js';
import { CtlError } from './errors.js';

export interface NodeStatusOptions {
  statusFile?: string;
  /** for tests: the reference for "today" in the SINCE column */
  now?: Date;
}

function alive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The text calicoctl prints, or a CtlError when no speaker is running on this host. */
export function nodeStatusText(opts: NodeStatusOptions = {}): string {
  const path = opts.statusFile ?? (process.env.CALICO_BGP_STATUS_FILE || DEFAULT_STATUS_FILE);
  const st = readNodeStatus(path);
  if (st === undefined)
    throw new CtlError(
      `Calico process is not running.\n(no BGP status file ${path}: calico-node with CALICO_NETWORKING_BACKEND=builtin writes it while its BGP speaker runs)`,
    );
  if (!alive(st.pid))
    throw new CtlError(
      `Calico process is not running.\n(BGP status file ${path} was left by process ${st.pid}, which has exited)`,
    );
  const now = opts.now ?? new Date();
  return `Calico process is running.\n\n${formatNodeStatus(st.peers, 4, { now })}\n${formatNodeStatus(st.peers, 6, { now })}`;
}

export function status(opts: Record<string, unknown>): void {
  const statusFile = typeof opts.statusFile === 'string' ? opts.statusFile : undefined;
  process.stdout.write(nodeStatusText(statusFile !== undefined ? { statusFile } : {}));
}
