/**
 * Keeps sends within WhatsApp's limits before Meta has to refuse them: a throughput cap per business
 * phone number (80 messages/s by default) and a minimum gap between messages to the same user. Sends
 * to one user run strictly one after another, so retries never let a later message overtake.
 * The per-number cap is shared by every process when a shared pace is given (Redis or PostgreSQL);
 * the per-recipient gap is per process (one conversation's sends run in one process at a time).
 */
import type { SharedSendPace } from '../../src/conversation/channel.ports.js';

/** Time source and timer; injected so tests run pacing and back-off without waiting. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface PacingOptions {
  /** Messages per second per business phone number; Meta's default is 80. */
  messagesPerSecond?: number;
  /** Least time between two messages to the same user, in ms; default 1,000. */
  recipientGapMs?: number;
  clock?: Clock;
  /** The number's slots shared with other processes; without it (or when it fails) they are kept here. */
  sharedPace?: SharedSendPace;
  onSharedPaceError?(error: unknown): void;
}

// Past this many remembered recipients, entries older than the gap are dropped: they no longer matter.
const PRUNE_THRESHOLD = 10_000;

/** Paces sends per phone number and per recipient; share one instance across a process's clients. */
export class WhatsAppPacer {
  readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly recipientGapMs: number;
  private readonly nextSlot = new Map<string, number>();
  private readonly lastSent = new Map<string, number>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly sharedPace: SharedSendPace | undefined;
  private readonly onSharedPaceError: ((error: unknown) => void) | undefined;

  constructor(options: PacingOptions = {}) {
    const rate = options.messagesPerSecond ?? 80;
    if (!(rate > 0)) throw new RangeError('messagesPerSecond must be positive');
    this.intervalMs = 1000 / rate;
    this.recipientGapMs = Math.max(0, options.recipientGapMs ?? 1000);
    this.clock = options.clock ?? systemClock;
    this.sharedPace = options.sharedPace;
    this.onSharedPaceError = options.onSharedPaceError;
  }

  /** Waits for this phone number's next free send slot (reserved at once, so callers never collide). */
  async phoneSlot(phoneNumberId: string): Promise<void> {
    if (this.sharedPace) {
      try {
        const waitMs = await this.sharedPace.reserve(`whatsapp:${phoneNumberId}`, this.intervalMs);
        if (waitMs > 0) await this.clock.sleep(waitMs);
        return;
      } catch (err) {
        this.onSharedPaceError?.(err);
      }
    }
    const now = this.clock.now();
    const slot = Math.max(now, this.nextSlot.get(phoneNumberId) ?? now);
    this.nextSlot.set(phoneNumberId, slot + this.intervalMs);
    if (slot > now) await this.clock.sleep(slot - now);
  }

  /**
   * Runs `task` after every earlier task for the same recipient has settled and the recipient gap has
   * passed; tasks for other recipients are not held up.
   */
  forRecipient<T>(phoneNumberId: string, recipient: string, task: () => Promise<T>): Promise<T> {
    const key = `${phoneNumberId}\u0000${recipient}`;
    const previous = this.queues.get(key) ?? Promise.resolve();
    const run = previous.then(async () => {
      const last = this.lastSent.get(key);
      if (last !== undefined) {
        const wait = last + this.recipientGapMs - this.clock.now();
        if (wait > 0) await this.clock.sleep(wait);
      }
      try {
        return await task();
      } finally {
        this.remember(key);
      }
    });
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, settled);
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
    return run;
  }

  private remember(key: string): void {
    const now = this.clock.now();
    this.lastSent.set(key, now);
    if (this.lastSent.size <= PRUNE_THRESHOLD) return;
    for (const [k, at] of this.lastSent) if (now - at >= this.recipientGapMs) this.lastSent.delete(k);
  }
}
