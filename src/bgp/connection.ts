// One TCP connection to a peer: message framing, the per-connection part of the RFC 4271
// FSM (OpenSent -> OpenConfirm -> Established) and its Hold/Keepalive timers. Which of two
// colliding connections survives, and what a session means for the RIB, is Peer's job.
import type { Socket } from 'node:net';
import {
  type BgpMessage,
  type CodecContext,
  checkHeader,
  decodeMessage,
  encodeKeepalive,
  encodeNotification,
  HEADER_LEN,
} from './codec.js';
import { BgpError, describeNotification, ErrCode } from './errors.js';

export type ConnStage = 'OpenSent' | 'OpenConfirm' | 'Established' | 'Closed';

export interface CloseInfo {
  reason: string;
  /** a NOTIFICATION was sent or received, so RFC 4724 helper mode does not apply */
  notified: boolean;
  /** the hold timer expired (peer unresponsive) */
  holdExpired: boolean;
}

export interface ConnectionHandler {
  onMessage(conn: Connection, msg: BgpMessage): void;
  onClosed(conn: Connection, info: CloseInfo): void;
}

/** Hold time while waiting for the peer's OPEN (RFC 4271 §8: "a large value", 4 minutes). */
const OPEN_HOLD_S = 240;
const EMPTY = Buffer.alloc(0);

export function plainAddress(addr: string | undefined): string {
  if (!addr) return '';
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}

export class Connection {
  stage: ConnStage = 'OpenSent';
  readonly ctx: CodecContext = { as4: true };
  readonly remoteAddress: string;
  readonly localAddress: string;
  private buf: Buffer = EMPTY;
  private holdTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly socket: Socket,
    readonly outgoing: boolean,
    private readonly handler: ConnectionHandler,
  ) {
    this.remoteAddress = plainAddress(socket.remoteAddress);
    this.localAddress = plainAddress(socket.localAddress);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) =>
      this.close({ reason: `socket: ${e.message}`, notified: false, holdExpired: false }),
    );
    socket.on('close', () =>
      this.close({ reason: 'connection closed by peer', notified: false, holdExpired: false }),
    );
    this.setHold(OPEN_HOLD_S);
  }

  send(buf: Uint8Array): void {
    if (!this.closed) this.socket.write(buf);
  }

  /** Starts (or restarts) the hold timer; 0 disables it (RFC 4271 §4.2). */
  setHold(seconds: number): void {
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    if (seconds > 0) {
      this.holdTimer = setTimeout(() => {
        this.notifyAndClose(new BgpError(ErrCode.HoldTimerExpired, 0, 'hold timer expired'), true);
      }, seconds * 1000);
    }
  }

  setKeepalive(seconds: number): void {
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
    if (seconds > 0) {
      this.keepaliveTimer = setInterval(() => this.send(encodeKeepalive()), seconds * 1000);
    }
  }

  /** Sends NOTIFICATION for `err` and closes once it is flushed. */
  notifyAndClose(err: BgpError, holdExpired = false): void {
    if (this.closed) return;
    this.socket.write(encodeNotification(err.code, err.subcode, err.data));
    const info = { reason: `sent ${err.message}`, notified: true, holdExpired };
    this.socket.end();
    // Give the NOTIFICATION a moment to leave, but never wait on a stuck peer.
    const s = this.socket;
    setTimeout(() => s.destroy(), 1000).unref();
    this.close(info);
  }

  /** Closes without NOTIFICATION (peer went away, or a graceful-restart stop). */
  close(info: CloseInfo): void {
    if (this.closed) return;
    this.closed = true;
    this.stage = 'Closed';
    if (this.holdTimer) clearTimeout(this.holdTimer);
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    if (!info.notified) this.socket.destroy();
    this.buf = EMPTY;
    this.handler.onClosed(this, info);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let off = 0;
    try {
      while (this.buf.length - off >= HEADER_LEN) {
        const { length } = checkHeader(this.buf, off);
        if (this.buf.length - off < length) break;
        const msg = decodeMessage(this.buf.subarray(off, off + length), this.ctx);
        off += length;
        if (msg.type === 'notification') {
          this.close({
            reason: `received ${describeNotification(msg.code, msg.subcode)}`,
            notified: true,
            holdExpired: false,
          });
          return;
        }
        // Any message proves the peer alive (RFC 4271 §6.5 restarts on KEEPALIVE/UPDATE).
        this.holdTimer?.refresh();
        this.handler.onMessage(this, msg);
        if (this.closed) return;
      }
    } catch (e) {
      if (e instanceof BgpError) {
        this.notifyAndClose(e);
        return;
      }
      throw e;
    }
    this.buf = off === this.buf.length ? EMPTY : this.buf.subarray(off);
  }
}
