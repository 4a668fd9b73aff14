import type { ChannelName } from '../conversation/channel.ports.js';
import { NotFoundError, ValidationError } from '../errors/app.errors.js';
import { normaliseTag } from './contact-tag.service.js';
import type { Broadcast, BroadcastQueue, BroadcastRecipient, BroadcastSegment, BroadcastStatus, BroadcastStore, BroadcastTotals } from './broadcast.ports.js';
import type { Clock, ProactiveStatus } from './proactive.ports.js';
import type { ProactiveContent } from './proactive.service.js';

/** A segment as the API names it. */
export interface SegmentInput {
  type: 'all' | 'program' | 'habit' | 'tag' | 'channel';
  value?: string | undefined;
}

export interface BroadcastView extends Broadcast, BroadcastTotals {
  status: BroadcastStatus;
}

const CHANNELS: readonly ChannelName[] = ['telegram', 'whatsapp', 'web'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Jobs queued per round trip to the queue while fanning out.
const WAKE_BATCH = 500;
/** Reason recorded on the recipients a cancel reached before their message was claimed. */
export const BROADCAST_CANCELLED = 'The broadcast was cancelled';

/** The effect key prefix of a broadcast's recipients. */
export function broadcastKeyPrefix(broadcastId: string): string {
  return `broadcast:${broadcastId}:`;
}

/** Where a broadcast stands, from its per-recipient rows. */
export function broadcastStatus(broadcast: Broadcast, totals: BroadcastTotals, now: Date): BroadcastStatus {
  if (broadcast.cancelledAt) return 'cancelled';
  if (!broadcast.startedAt) return 'scheduled';
  if (totals.pending === 0) return 'done';
  return broadcast.sendAt.getTime() > now.getTime() ? 'scheduled' : 'sending';
}

/** What a broadcast's start job came to. */
export type BroadcastStartOutcome = { outcome: 'started' | 'gone' } | { outcome: 'not_due'; waitMs: number };

/**
 * Broadcasts. The recipients are chosen when the broadcast starts sending (at once, or at `sendAt`
 * by a delayed job): contacts who joined or were tagged in between receive it. Choosing them stores
 * one proactive send per recipient in the same transaction that marks the broadcast started, so a
 * second start (a duplicate job, the reconciler) adds nobody; their jobs are then queued in batches.
 * Delivery, pacing, opt-outs and exactly-once come from the proactive service (ledger claim by
 * effect key). The reconciler starts a due broadcast whose job was lost, and queues any due
 * recipient whose job was never added (a crash part-way through the fan-out).
 */
export class BroadcastService {
  constructor(
    private readonly deps: {
      bots: { get(creatorId: string, botId: string): Promise<{ id: string }> };
      store: BroadcastStore;
      queue: BroadcastQueue;
      clock: Clock;
      onDegraded?(what: string, error: unknown): void;
    },
  ) {}

  /** What the proactive service sends for a `broadcast` send: the text fixed at creation, quiet hours or not (the creator chose the time). */
  readonly content: ProactiveContent = {
    respectsQuietHours: false,
    // Sent to many at one moment: arriving hours later, after a takeover, it would be out of place, so
    // the recipient is skipped with the reason, which the creator sees among the recipients.
    duringTakeover: 'skip',
    message: async (send) => (send.message ? { message: send.message } : { cancel: 'The broadcast has no message' }),
  };

  /** Creates a broadcast: started at once when due, else its start job queued; VALIDATION_FAILED for a segment that cannot be used. */
  async create(creatorId: string, botId: string, input: { text: string; segment: SegmentInput; sendAt?: Date | undefined }): Promise<BroadcastView> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const segment = await this.segment(bot.id, input.segment);
    const now = this.deps.clock();
    const sendAt = input.sendAt && input.sendAt.getTime() > now.getTime() ? input.sendAt : now;
    const broadcast = await this.deps.store.create({ botId: bot.id, text: input.text, segment, sendAt });
    if (sendAt.getTime() > now.getTime()) {
      await this.deps.queue
        .scheduleStart(broadcast.id, bot.id, sendAt.getTime() - now.getTime())
        .catch((err: unknown) => this.deps.onDegraded?.('broadcast: queueing its start failed; the reconciler will start it', err));
      return this.view(broadcast);
    }
    // Should this process stop before the recipients are chosen, the reconciler starts it.
    await this.deps.store.start(broadcast.id);
    const started = (await this.deps.store.find(bot.id, broadcast.id)) ?? broadcast;
    this.fanOutLater(started);
    return this.view(started);
  }

  /**
   * The start job: chooses the recipients of a due broadcast and queues their jobs. Safe to run again:
   * a started broadcast only has its still scheduled recipients queued once more.
   */
  async startDue(botId: string, broadcastId: string): Promise<BroadcastStartOutcome> {
    const broadcast = UUID.test(broadcastId) ? await this.deps.store.find(botId, broadcastId) : null;
    if (!broadcast || broadcast.cancelledAt) return { outcome: 'gone' };
    const waitMs = broadcast.sendAt.getTime() - this.deps.clock().getTime();
    if (!broadcast.startedAt && waitMs > 0) return { outcome: 'not_due', waitMs };
    await this.deps.store.start(broadcast.id);
    await this.fanOut(broadcast);
    return { outcome: 'started' };
  }

  /** Starts due broadcasts whose start job was lost; resolves to how many it started. */
  async reconcile(graceMs: number, batchSize = 50): Promise<number> {
    const due = await this.deps.store.unstarted(this.deps.clock(), graceMs, batchSize);
    let started = 0;
    for (const broadcast of due) {
      if ((await this.deps.store.start(broadcast.id)) === null) continue;
      started += 1;
      await this.fanOut(broadcast);
    }
    return started;
  }

  // Queued after the answer: the recipients are stored, and should this process stop part-way the
  // reconciler queues the rest once they are due.
  private fanOutLater(broadcast: Broadcast): void {
    const fanOut = this.fanOut(broadcast)
      .catch((err: unknown) => this.deps.onDegraded?.('broadcast: queueing the recipients failed; the reconciler will queue them', err))
      .finally(() => this.fanOuts.delete(fanOut));
    this.fanOuts.add(fanOut);
  }

  private readonly fanOuts = new Set<Promise<void>>();

  /** Resolves once the fan-outs under way have queued their recipients (before the queues close). */
  async drain(): Promise<void> {
    await Promise.all([...this.fanOuts]);
  }

  /** Queues every still scheduled recipient's job, in batches; safe to run again. */
  async fanOut(broadcast: Broadcast): Promise<void> {
    const delayMs = Math.max(0, broadcast.sendAt.getTime() - this.deps.clock().getTime());
    let after: string | null = null;
    for (;;) {
      const batch = await this.deps.store.scheduledSends(broadcast.id, after, WAKE_BATCH);
      if (batch.length === 0) return;
      await this.deps.queue.wakeMany(batch.map((s) => ({ id: s.id, botId: broadcast.botId, delayMs })));
      after = batch[batch.length - 1]!.id;
    }
  }

  /** One broadcast with its totals; NOT_FOUND for another bot's. */
  async get(creatorId: string, botId: string, broadcastId: string): Promise<BroadcastView> {
    const bot = await this.deps.bots.get(creatorId, botId);
    return this.view(await this.find(bot.id, broadcastId));
  }

  /** The bot's broadcasts, newest first, with their totals. */
  async list(creatorId: string, botId: string, page: { limit: number; before?: string | undefined }): Promise<BroadcastView[]> {
    const bot = await this.deps.bots.get(creatorId, botId);
    if (page.before !== undefined && !UUID.test(page.before)) throw new ValidationError('before must be a broadcast id', { before: page.before });
    const broadcasts = await this.deps.store.list(bot.id, { limit: page.limit, ...(page.before ? { before: page.before } : {}) });
    const totals = await this.deps.store.totals(broadcasts.map((b) => b.id));
    const now = this.deps.clock();
    return broadcasts.map((b) => this.withTotals(b, totals.get(b.id), now));
  }

  /** Per-recipient status, in a stable order; `before` is the last `sendId` of the previous page. */
  async recipients(
    creatorId: string,
    botId: string,
    broadcastId: string,
    filter: { status?: ProactiveStatus | undefined; limit: number; before?: string | undefined },
  ): Promise<BroadcastRecipient[]> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const broadcast = await this.find(bot.id, broadcastId);
    if (filter.before !== undefined && !UUID.test(filter.before)) throw new ValidationError('before must be a recipient sendId', { before: filter.before });
    return this.deps.store.recipients(broadcast.id, {
      limit: filter.limit,
      ...(filter.status ? { status: filter.status } : {}),
      ...(filter.before ? { before: filter.before } : {}),
    });
  }

  /** Cancels the recipients whose message has not been claimed yet; a message already going out still goes. */
  async cancel(creatorId: string, botId: string, broadcastId: string): Promise<BroadcastView> {
    const bot = await this.deps.bots.get(creatorId, botId);
    if (!UUID.test(broadcastId)) throw new NotFoundError('Broadcast');
    const cancelled = await this.deps.store.cancel(bot.id, broadcastId, BROADCAST_CANCELLED);
    if (cancelled === null) throw new NotFoundError('Broadcast');
    return this.view(await this.find(bot.id, broadcastId));
  }

  private async find(botId: string, broadcastId: string): Promise<Broadcast> {
    const broadcast = UUID.test(broadcastId) ? await this.deps.store.find(botId, broadcastId) : null;
    if (!broadcast) throw new NotFoundError('Broadcast');
    return broadcast;
  }

  private async view(broadcast: Broadcast): Promise<BroadcastView> {
    const totals = await this.deps.store.totals([broadcast.id]);
    return this.withTotals(broadcast, totals.get(broadcast.id), this.deps.clock());
  }

  private withTotals(broadcast: Broadcast, found: BroadcastTotals | undefined, now: Date): BroadcastView {
    const totals = found ?? { total: 0, sent: 0, failed: 0, skipped: 0, cancelled: 0, pending: 0 };
    return { ...broadcast, ...totals, status: broadcastStatus(broadcast, totals, now) };
  }

  private async segment(botId: string, input: SegmentInput): Promise<BroadcastSegment> {
    switch (input.type) {
      case 'all':
        return { type: 'all' };
      case 'channel': {
        const channel = CHANNELS.find((c) => c === input.value);
        if (!channel) throw new ValidationError(`segment.value must name a channel: ${CHANNELS.join(', ')}`, { segment: input });
        return { type: 'channel', channel };
      }
      case 'program': {
        if (!input.value || !UUID.test(input.value) || !(await this.deps.store.programExists(botId, input.value))) {
          throw new ValidationError("segment.value must be the id of one of this bot's programs", { segment: input });
        }
        return { type: 'program', programId: input.value };
      }
      case 'habit': {
        if (!input.value || !UUID.test(input.value) || !(await this.deps.store.habitExists(botId, input.value))) {
          throw new ValidationError("segment.value must be the id of one of this bot's habits", { segment: input });
        }
        return { type: 'habit', habitId: input.value };
      }
      case 'tag': {
        const tag = input.value === undefined ? null : normaliseTag(input.value);
        // Any well-formed tag: contacts tagged before a scheduled broadcast starts receive it.
        if (!tag) throw new ValidationError('segment.value must be a tag: letters, digits, "_", ".", ":" or "-"', { segment: input });
        return { type: 'tag', tag };
      }
    }
  }
}

