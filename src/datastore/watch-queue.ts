import type { Watch, WatchEvent } from './backend.js';

/**
 * The delivery end shared by both backends: producers push events as they learn of
 * them, the consumer pulls with `for await`. The queue is unbounded on purpose: a
 * backend must never drop or block on a slow consumer, because a dropped event is a
 * silent divergence and blocking would stall every other watch sharing the stream.
 */
export class QueueWatch implements Watch {
  private readonly buffer: WatchEvent[] = [];
  private waiting: ((r: IteratorResult<WatchEvent>) => void) | undefined;
  private ended = false;
  private closing: Promise<void> | undefined;
  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;

  /** @param onClose releases backend resources; called once, on close() or end() */
  constructor(
    private readonly onClose: () => Promise<void> | void,
    readyNow = true,
  ) {
    this.readyPromise = new Promise((resolve) => {
      this.resolveReady = resolve;
    });
    if (readyNow) this.resolveReady();
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  /** The backend confirmed the watch (also called on close, so ready() never hangs). */
  markReady(): void {
    this.resolveReady();
  }

  get isEnded(): boolean {
    return this.ended;
  }

  push(event: WatchEvent): void {
    if (this.ended) return;
    const w = this.waiting;
    if (w !== undefined) {
      this.waiting = undefined;
      w({ value: event, done: false });
    } else {
      this.buffer.push(event);
    }
  }

  /** Delivers a resync-needed event, then ends the watch: history is gone, nothing more follows. */
  resync(reason: string): void {
    if (this.ended) return;
    this.push({ type: 'resync-needed', reason });
    void this.close();
  }

  close(): Promise<void> {
    if (this.closing === undefined) {
      this.ended = true;
      this.resolveReady();
      const w = this.waiting;
      this.waiting = undefined;
      // Buffered events stay readable; the iterator reports done once they are drained.
      if (w !== undefined && this.buffer.length === 0) w({ value: undefined, done: true });
      this.closing = Promise.resolve()
        .then(() => this.onClose())
        .catch(() => {
          // Releasing backend resources is best effort; the watch is over regardless.
        });
    }
    return this.closing;
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return {
      next: () => {
        const ev = this.buffer.shift();
        if (ev !== undefined) return Promise.resolve({ value: ev, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waiting = resolve;
        });
      },
      return: async () => {
        await this.close();
        this.buffer.length = 0;
        return { value: undefined, done: true };
      },
    };
  }
}
