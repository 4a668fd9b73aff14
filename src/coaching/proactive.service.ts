import {
  ChannelAuthError,
  ChannelRequestError,
  OutsideWindowError,
  RecipientBlockedError,
  RecipientOptedOutError,
  type OutboundMessage,
} from '../conversation/channel.ports.js';
import type { ContactStore, SenderDirectory } from '../conversation/turn.ports.js';
import { nextAllowedInstant } from './local-time.js';
import { timeZoneForPhone } from './phone-time-zone.js';
import type {
  Clock,
  CoachingContact,
  CoachingContacts,
  CoachingSettings,
  ProactiveKind,
  ProactiveQueue,
  ProactiveSend,
  ProactiveStore,
  ScheduleInput,
} from './proactive.ports.js';

/** How one kind of proactive message gets its content, and what follows once it settled. */
export interface ProactiveContent {
  /** Whether quiet hours apply (a reminder the contact timed themselves goes out when they asked). */
  respectsQuietHours: boolean;
  /** Also sent to contacts who opted out (/stop): a person answering them is no message of the bot's own accord. */
  reachesOptedOut?: boolean;
  /**
   * What happens when a person has taken the conversation over as it comes due: 'hold' keeps it
   * until the release and then sends it (in order, quiet hours and the channel's rules applying as
   * ever); 'skip' records it skipped with SKIP_REASONS.takenOver; 'send' sends it anyway.
   */
  duringTakeover: 'hold' | 'skip' | 'send';
  /** The message to send now, or why it is no longer wanted (the enrollment was left, the step removed). */
  message(send: ProactiveSend): Promise<{ message: OutboundMessage } | { cancel: string }>;
  /** Told after the send settled (also again when a retried job finds it settled): must be idempotent. */
  settled?(send: ProactiveSend, outcome: SettledOutcome): Promise<void>;
}

export type SettledOutcome =
  | { status: 'sent' }
  | { status: 'skipped' | 'failed' | 'cancelled'; reason: string; contactUnreachable?: boolean; outsideWindow?: boolean };

/** What a delivery attempt came to. */
export type DeliverOutcome =
  | { outcome: 'gone' }
  /** Not due yet (or moved past quiet hours): try again in `waitMs`. */
  | { outcome: 'not_due'; waitMs: number }
  /** Another attempt holds the send right now, or a send held before it has still to go. */
  | { outcome: 'busy' }
  /** A person has the conversation: the send waits for the release, which wakes it. */
  | { outcome: 'held' }
  | { outcome: 'settled'; settled: SettledOutcome };

export interface ProactiveServiceDeps {
  store: ProactiveStore;
  queue: ProactiveQueue;
  contacts: CoachingContacts;
  settings: CoachingSettings;
  senders: SenderDirectory;
  /** Marks a contact blocked when the channel says they blocked the bot. */
  blocked: Pick<ContactStore, 'setBlocked'>;
  clock: Clock;
  contents: Partial<Record<ProactiveKind, ProactiveContent>>;
  /** Told about problems worked around (a queue that could not be reached: the reconciler catches up). */
  onDegraded?(what: string, error: unknown): void;
}

/** Zone used until a contact's is known. */
export const FALLBACK_TIME_ZONE = 'UTC';

// A `sending` ledger row this old belongs to an attempt that died (a send takes seconds).
const STALE_SENDING_MS = 5 * 60 * 1000;

/** Reasons recorded on skipped sends. */
export const SKIP_REASONS = {
  optedOut: 'The contact opted out of proactive messages (/stop)',
  /** The channel refused a send because the user stopped such messages there (WhatsApp: code 131050). */
  stoppedOnChannel: (channel: string) => `The contact chose on ${channel} to stop receiving marketing messages from the bot`,
  forgotten: 'The contact asked to be forgotten after this message was scheduled',
  blocked: 'The recipient has blocked the bot',
  notConnected: (channel: string) => `The ${channel} channel is not connected`,
  takenOver: 'Conversation taken over: a person was answering the contact',
} as const;

/** Shown on a send held while a person has its conversation. */
export const HELD_REASON = 'Held while the conversation is taken over; sent once it is handed back';

/**
 * Proactive messages: scheduled in Postgres (the source of truth), woken by a delayed job, and
 * delivered through the same ledger and senders as replies. The ledger row is keyed by the send's
 * effect key and claimed before the channel is called, so a duplicate job, a retry or a
 * reconciler pass never sends twice; a crash between the channel accepting the message and the
 * ledger write can repeat it once, after STALE_SENDING_MS. Each attempt checks the contact while
 * holding their coaching row: opted out, forgotten or blocked contacts get nothing, and the send is
 * recorded skipped with the reason. While a person has the conversation (a takeover), each kind
 * says whether its sends wait for the release, are skipped, or go anyway; that is read again in the
 * statement that claims the ledger row, so a job already queued when the takeover starts holds too.
 */
export class ProactiveService {
  constructor(private readonly deps: ProactiveServiceDeps) {}

  /** The contact's time zone: theirs, else guessed from a WhatsApp number (and kept), else UTC. */
  async zoneOf(contact: CoachingContact): Promise<string> {
    if (contact.timeZone) return contact.timeZone;
    if (contact.channel === 'whatsapp') {
      const guessed = timeZoneForPhone(contact.externalId);
      if (guessed) {
        await this.deps.contacts.setTimeZone(contact.id, guessed, 'phone');
        return guessed;
      }
    }
    return FALLBACK_TIME_ZONE;
  }

  /** Schedules a send (idempotent by its effect key), applying quiet hours where its kind respects them. */
  async schedule(input: ScheduleInput): Promise<ProactiveSend> {
    let dueAt = input.dueAt;
    if (this.deps.contents[input.kind]?.respectsQuietHours) {
      const contact = await this.deps.contacts.findContact(input.botId, input.contactId);
      if (contact) dueAt = nextAllowedInstant(dueAt, await this.zoneOf(contact), await this.deps.settings.quietHours(input.botId));
    }
    const send = await this.deps.store.schedule({ ...input, dueAt });
    if (send.status === 'scheduled') await this.wake(send);
    return send;
  }

  /** Cancels the scheduled sends whose effect key starts with `prefix` (their jobs find them cancelled). */
  cancel(botId: string, prefix: string, reason: string): Promise<number> {
    return this.deps.store.cancelByPrefix(botId, prefix, reason);
  }

  /** Moves a scheduled send (e.g. a resumed program) and its job. */
  async reschedule(send: ProactiveSend, dueAt: Date): Promise<void> {
    await this.deps.store.moveDue(send.id, dueAt);
    await this.wake({ ...send, dueAt });
  }

  private async wake(send: Pick<ProactiveSend, 'id' | 'botId' | 'dueAt'>): Promise<void> {
    try {
      await this.deps.queue.schedule(send.id, send.botId, Math.max(0, send.dueAt.getTime() - this.deps.clock().getTime()));
    } catch (err) {
      // Postgres has the send: the reconciler queues it once it is due.
      this.deps.onDegraded?.('proactive: scheduling the job failed; the reconciler will queue it', err);
    }
  }

  /** Re-queues every due send that has no live job (the queue lost it); resolves to how many jobs changed. */
  async reconcile(graceMs: number, batchSize = 500): Promise<number> {
    const due = await this.deps.store.due(this.deps.clock(), graceMs, batchSize);
    let changed = 0;
    for (const send of due) if (await this.deps.queue.ensureDue(send.id, send.botId)) changed += 1;
    return changed;
  }

  /**
   * Sends a message now, through the same ledger and gate as every proactive send: stored due at
   * `input.dueAt` (when its job retries a failed attempt) and delivered at once in this call. Safe
   * to repeat with the same effect key: what was settled is answered again, nothing is sent twice.
   * 'retrying': the channel failed in a way worth retrying, and the job will.
   */
  async sendNow(input: ScheduleInput): Promise<DeliverOutcome | { outcome: 'retrying'; error: unknown }> {
    const send = await this.schedule(input);
    try {
      return await this.deliver(send.id, { early: true });
    } catch (err) {
      this.deps.onDegraded?.('proactive: a message sent now failed; its job retries it', err);
      return { outcome: 'retrying', error: err };
    }
  }

  /** Delivers a send if it is due (or `early`) and still wanted; safe to run any number of times. */
  async deliver(sendId: string, options: { early?: boolean } = {}): Promise<DeliverOutcome> {
    const { store, clock } = this.deps;
    const send = await store.find(sendId);
    if (!send) return { outcome: 'gone' };
    const content = this.deps.contents[send.kind];
    if (send.status !== 'scheduled') {
      // A retried job after a crash between settling and the follow-up: the follow-up is idempotent.
      const settled: SettledOutcome = send.status === 'sent' ? { status: 'sent' } : { status: send.status, reason: send.reason ?? '' };
      await content?.settled?.(send, settled);
      return { outcome: 'settled', settled };
    }
    const now = clock();
    if (!options.early && send.dueAt.getTime() > now.getTime()) return { outcome: 'not_due', waitMs: send.dueAt.getTime() - now.getTime() };
    if (!content) return this.settle(send, undefined, { status: 'failed', reason: `No content for ${send.kind} messages` });
    if (content.respectsQuietHours) {
      // The contact may have moved (or corrected their zone) since it was scheduled.
      const contact = await this.deps.contacts.findContact(send.botId, send.contactId);
      if (contact) {
        const allowed = nextAllowedInstant(now, await this.zoneOf(contact), await this.deps.settings.quietHours(send.botId));
        if (allowed.getTime() > now.getTime()) {
          await store.moveDue(send.id, allowed);
          return { outcome: 'not_due', waitMs: allowed.getTime() - now.getTime() };
        }
      }
    }
    const resolved = await content.message(send);
    if ('cancel' in resolved) return this.settle(send, content, { status: 'cancelled', reason: resolved.cancel });
    const guarded = content.duringTakeover !== 'send';
    // The common case decided without a ledger row; the claim below decides a takeover racing this.
    if (guarded && (await store.takenOver(send.conversationId))) return this.takenOver(send, content);
    if (send.heldAt && (await store.heldBefore(send))) return { outcome: 'busy' };
    let blockedNow = false;
    let optedOutNow = false;
    const result = await store.whileHeld(send.contactId, async (gate): Promise<(SettledOutcome & { ledgerId?: string }) | 'busy' | 'taken_over'> => {
      if (gate.optedOut && !content.reachesOptedOut) {
        return { status: 'skipped', reason: gate.optedOutBy === 'channel' ? SKIP_REASONS.stoppedOnChannel(send.channel) : SKIP_REASONS.optedOut, contactUnreachable: true };
      }
      if (gate.forgottenAt && gate.forgottenAt.getTime() >= send.createdAt.getTime()) {
        return { status: 'skipped', reason: SKIP_REASONS.forgotten, contactUnreachable: true };
      }
      if (gate.blocked) return { status: 'skipped', reason: SKIP_REASONS.blocked, contactUnreachable: true };
      const sender = await this.deps.senders.sender(send.botId, send.channel);
      if (!sender) return { status: 'skipped', reason: SKIP_REASONS.notConnected(send.channel) };
      const record = await store.openLedger(send);
      if (record.status === 'sent') return { status: 'sent', ledgerId: record.id };
      if (record.status === 'failed') return { status: 'failed', reason: 'The message failed earlier' };
      const claim = await store.claimLedger(record.id, resolved.message.text, STALE_SENDING_MS, { unlessTakenOver: guarded });
      if (claim !== 'claimed') return claim;
      try {
        const sent = await sender.sendText(send.externalChatId, resolved.message);
        await store.markSent(record.id, sent.messageIds);
        return { status: 'sent', ledgerId: record.id };
      } catch (err) {
        if (err instanceof RecipientBlockedError) {
          blockedNow = true;
          await store.markFailed(record.id, err.message);
          return { status: 'skipped', reason: err.message, contactUnreachable: true };
        }
        if (err instanceof RecipientOptedOutError) {
          // Like /stop: this and every later proactive message is skipped until the contact opts in again.
          optedOutNow = true;
          await store.markFailed(record.id, err.message);
          return { status: 'skipped', reason: `${SKIP_REASONS.stoppedOnChannel(send.channel)} (${err.errorCode ?? 'no code'}: ${err.description})`, contactUnreachable: true };
        }
        if (err instanceof OutsideWindowError) {
          await store.markFailed(record.id, err.description);
          return { status: 'skipped', reason: err.description, outsideWindow: true };
        }
        if (err instanceof ChannelAuthError || (err instanceof ChannelRequestError && !err.retryable)) {
          await store.markFailed(record.id, err.message);
          return { status: 'failed', reason: err.message };
        }
        // Retryable: the row goes back to pending for the job's next attempt.
        await store.releaseLedger(record.id);
        throw err;
      }
    });
    // Outside the hold: it updates the contact row an inbound message may be waiting on.
    if (blockedNow) await this.deps.blocked.setBlocked(send.conversationId, true);
    // Outside the hold too: storing the opt-out waits for the holds on the contact's coaching row.
    if (optedOutNow) await this.deps.contacts.setOptedOut(send.contactId, true, 'channel');
    if (result === 'busy') return { outcome: 'busy' };
    if (result === 'taken_over') return this.takenOver(send, content);
    return this.settle(send, content, result);
  }

  private async takenOver(send: ProactiveSend, content: ProactiveContent): Promise<DeliverOutcome> {
    if (content.duringTakeover === 'skip') return this.settle(send, content, { status: 'skipped', reason: SKIP_REASONS.takenOver });
    await this.deps.store.hold(send.id, HELD_REASON);
    return { outcome: 'held' };
  }

  /**
   * The conversations were handed back to the bot: their held sends are woken, and go out earliest
   * first (each waits for the ones held before it). A send that cannot be woken now is queued by the
   * reconciler once it is due.
   */
  async resume(conversationIds: string[]): Promise<void> {
    for (const conversationId of conversationIds) {
      for (const send of await this.deps.store.heldSends(conversationId)) {
        await this.deps.queue.ensureDue(send.id, send.botId).catch((err: unknown) => this.deps.onDegraded?.('proactive: waking a held message failed; the reconciler will queue it', err));
      }
    }
  }

  private async settle(send: ProactiveSend, content: ProactiveContent | undefined, outcome: SettledOutcome & { ledgerId?: string }): Promise<DeliverOutcome> {
    const { ledgerId, ...settled } = outcome;
    await this.deps.store.settle(send.id, settled.status, settled.status === 'sent' ? null : settled.reason, ledgerId);
    // The next held send of the conversation was waiting for this one.
    if (send.heldAt) await this.wakeNextHeld(send.conversationId);
    await content?.settled?.(send, settled);
    return { outcome: 'settled', settled };
  }

  private async wakeNextHeld(conversationId: string): Promise<void> {
    const [next] = await this.deps.store.heldSends(conversationId);
    if (!next) return;
    await this.deps.queue.ensureDue(next.id, next.botId).catch((err: unknown) => this.deps.onDegraded?.('proactive: waking a held message failed; its job looks again', err));
  }

  /**
   * The channel reported after the fact that a proactive message was refused because the contact
   * stopped such messages there (WhatsApp's failed status with code 131050): like /stop, nothing
   * proactive goes to them until they opt in again. Reports on replies change nothing.
   */
  async stoppedByChannel(botId: string, externalMessageId: string): Promise<void> {
    const contactId = await this.deps.store.recipientOfSent(botId, externalMessageId);
    if (contactId) await this.deps.contacts.setOptedOut(contactId, true, 'channel');
  }

  /** Records that a send could not be delivered after every retry. */
  async giveUp(sendId: string, error: unknown): Promise<void> {
    const send = await this.deps.store.find(sendId);
    if (!send || send.status !== 'scheduled') return;
    const reason = error instanceof Error ? error.message : String(error);
    await this.settle(send, this.deps.contents[send.kind], { status: 'failed', reason });
  }
}
