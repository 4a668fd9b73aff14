import type { OutboundMessage } from '../conversation/channel.ports.js';
import type { ClaimedTurn } from '../conversation/turn.ports.js';
import { NotFoundError } from '../errors/app.errors.js';
import { habitStats, localDateOf, nextAsk, type HabitStats, type LocalDate } from './habit-days.js';
import type { Habit, HabitInput, HabitPatch, HabitStore, HabitSubscription } from './habit.types.js';
import { describeLocalTime } from './local-time.js';
import type { Clock, CoachingContact, CoachingContacts, ProactiveSend } from './proactive.ports.js';
import type { ProactiveContent, ProactiveService, SettledOutcome } from './proactive.service.js';

export interface HabitServiceDeps {
  store: HabitStore;
  /** Resolves a creator's bot; NOT_FOUND for another creator's. */
  bots: { get(creatorId: string, botId: string): Promise<{ id: string }> };
  contacts: Pick<CoachingContacts, 'findContact' | 'latestConversation'>;
  proactive: Pick<ProactiveService, 'schedule' | 'cancel' | 'zoneOf'>;
  clock: Clock;
}

/** Chat side of habits, consulted by the coaching turns. */
export interface HabitTurns {
  /** `/habits`, `/habit [name | stop name]`, `/streak`; null for other commands. */
  command(turn: ClaimedTurn, contact: CoachingContact, name: string, payload: string): Promise<OutboundMessage | null>;
  /** A habit button (join, Done, Not today); null when the data is not one. */
  callback(turn: ClaimedTurn, contact: CoachingContact, data: string): Promise<OutboundMessage | null>;
  /** A plain "done" / "not today" answering the latest ask (within a day); null otherwise. */
  text(turn: ClaimedTurn, contact: CoachingContact, text: string): Promise<OutboundMessage | null>;
  /** The contact set another zone: pending asks move to its local time. */
  zoneChanged(botId: string, contactId: string): Promise<void>;
}

/** A subscription with its streaks and adherence, as creators see it. */
export type SubscriptionWithStats = HabitSubscription & { today: LocalDate; timeZone: string; stats: HabitStats };

/** The effect key of one day's ask, and the prefix of all a subscription's asks. */
export const askKey = (subscriptionId: string, localDate: LocalDate) => `habit:${subscriptionId}:${localDate}`;
const subscriptionPrefix = (subscriptionId: string) => `habit:${subscriptionId}:`;
const ASK_KEY = /^habit:([0-9a-f-]{36}):(\d{4}-\d{2}-\d{2})$/;
const CHECK_IN_DATA = /^h:([0-9a-f-]{36}):(\d{4}-\d{2}-\d{2}):([ds])$/;
const JOIN_DATA = /^hj:([0-9a-f-]{36})$/;
const DONE_TEXT = /^(done|did it|i did it|yes,? done|done it)[.! ✅]*$/i;
const SKIP_TEXT = /^(not today|skip|skipped|skip today)[.! ]*$/i;
// A plain "done" answers an ask sent this long ago at most; otherwise it is a message for the coach.
const PLAIN_ANSWER_WINDOW_MS = 24 * 3600_000;

/** Whether a message reads as an answer to a habit ask ("done", "not today", …). */
export function isCheckInText(text: string): boolean {
  return DONE_TEXT.test(text) || SKIP_TEXT.test(text);
}

/** The ask as the contact receives it: the habit's name and two buttons. */
export function askMessage(habit: Pick<Habit, 'name'>, subscriptionId: string, localDate: LocalDate): OutboundMessage {
  return {
    text: `Habit check-in: “${habit.name}” — did you do it today?`,
    buttons: [
      { id: `h:${subscriptionId}:${localDate}:d`, title: 'Done' },
      { id: `h:${subscriptionId}:${localDate}:s`, title: 'Not today' },
    ],
  };
}

/**
 * Habits: creators' daily (or weekly-target) practices, contacts' subscriptions asked once per local
 * day at the habit's local time (one proactive send per `habit:<subscriptionId>:<local date>`), and
 * check-ins by button or plain answer, one per subscription and local day.
 */
export class HabitService implements HabitTurns {
  constructor(private readonly deps: HabitServiceDeps) {}

  // ---- creators ----

  async create(creatorId: string, botId: string, input: HabitInput): Promise<Habit> {
    const bot = await this.deps.bots.get(creatorId, botId);
    return this.deps.store.insert(bot.id, input);
  }

  async list(creatorId: string, botId: string): Promise<Habit[]> {
    const bot = await this.deps.bots.get(creatorId, botId);
    return this.deps.store.list(bot.id);
  }

  async get(creatorId: string, botId: string, habitId: string): Promise<Habit> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const habit = await this.deps.store.get(bot.id, habitId);
    if (!habit) throw new NotFoundError('Habit');
    return habit;
  }

  /** Changes a habit; the asks not yet sent move to its new time and days. */
  async update(creatorId: string, botId: string, habitId: string, patch: HabitPatch): Promise<Habit> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const updated = await this.deps.store.update(bot.id, habitId, patch);
    if (!updated) throw new NotFoundError('Habit');
    if (patch.localTime !== undefined || patch.daysOfWeek !== undefined) {
      for (const s of await this.deps.store.subscriptions(bot.id, habitId)) {
        if (s.status !== 'active') continue;
        await this.deps.proactive.cancel(bot.id, subscriptionPrefix(s.id), 'The habit changed its time or days');
        await this.scheduleNext(updated, s, this.deps.clock(), (await this.deps.store.lastAsked(s.id)) ?? undefined);
      }
    }
    return updated;
  }

  async delete(creatorId: string, botId: string, habitId: string): Promise<void> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const subscriptions = await this.deps.store.subscriptions(bot.id, habitId);
    if (!(await this.deps.store.delete(bot.id, habitId))) throw new NotFoundError('Habit');
    for (const s of subscriptions) await this.deps.proactive.cancel(bot.id, subscriptionPrefix(s.id), 'The habit was deleted');
  }

  /** Subscribes a contact of the bot (the creator's doing); NOT_FOUND for an unknown habit or contact. */
  async subscribeContact(creatorId: string, botId: string, habitId: string, contactId: string): Promise<{ subscription: HabitSubscription; created: boolean }> {
    const habit = await this.get(creatorId, botId, habitId);
    const contact = await this.deps.contacts.findContact(habit.botId, contactId);
    const conversationId = contact && (await this.deps.contacts.latestConversation(habit.botId, contact.id));
    if (!contact || !conversationId) throw new NotFoundError('Contact');
    const { subscription, created } = await this.subscribe(habit, contact, conversationId);
    return { subscription, created };
  }

  /** Each subscriber's streaks and adherence, read on their own local today. */
  async subscriptions(creatorId: string, botId: string, habitId: string): Promise<SubscriptionWithStats[]> {
    const habit = await this.get(creatorId, botId, habitId);
    const subscriptions = await this.deps.store.subscriptions(habit.botId, habit.id);
    return Promise.all(subscriptions.map((s) => this.withStats(habit, s)));
  }

  private async withStats(habit: Habit, subscription: HabitSubscription): Promise<SubscriptionWithStats> {
    const contact = await this.deps.contacts.findContact(subscription.botId, subscription.contactId);
    const zone = contact ? await this.deps.proactive.zoneOf(contact) : 'UTC';
    const today = localDateOf(this.deps.clock(), zone);
    const checkIns = await this.deps.store.checkIns(subscription.id);
    return { ...subscription, today, timeZone: zone, stats: habitStats(habit, checkIns, subscription.startedOn, today) };
  }

  // ---- subscriptions and asks ----

  private async subscribe(habit: Habit, contact: CoachingContact, conversationId: string) {
    const zone = await this.deps.proactive.zoneOf(contact);
    const now = this.deps.clock();
    const result = await this.deps.store.subscribe({ habitId: habit.id, botId: habit.botId, contactId: contact.id, conversationId, startedOn: localDateOf(now, zone) });
    // Also when it existed: a retried turn or request makes sure the next ask is scheduled.
    const next = await this.scheduleNext(habit, result.subscription, now);
    return { ...result, next, zone };
  }

  /**
   * Schedules the next ask at or after `from` (after `afterDate` when given), idempotent per local
   * day: a day already asked (joining again the same day, a zone change) moves on to the next one.
   */
  private async scheduleNext(habit: Habit, subscription: HabitSubscription, from: Date, afterDate?: LocalDate): Promise<ProactiveSend | null> {
    if (subscription.status !== 'active') return null;
    const contact = await this.deps.contacts.findContact(subscription.botId, subscription.contactId);
    if (!contact) return null;
    const zone = await this.deps.proactive.zoneOf(contact);
    let after = afterDate;
    for (let attempt = 0; attempt < 3; attempt++) {
      const ask = nextAsk(habit, zone, from, after);
      const send = await this.deps.proactive.schedule({
        botId: subscription.botId,
        contactId: subscription.contactId,
        conversationId: subscription.conversationId,
        effectKey: askKey(subscription.id, ask.localDate),
        kind: 'habit_ask',
        dueAt: ask.at,
      });
      if (send.status === 'scheduled') return send;
      after = ask.localDate;
    }
    return null;
  }

  /** Moves the contact's pending asks to their new zone's local time (never asking a day twice). */
  async zoneChanged(botId: string, contactId: string): Promise<void> {
    const now = this.deps.clock();
    for (const s of await this.deps.store.ofContact(contactId, ['active'])) {
      if (s.botId !== botId) continue;
      const habit = await this.deps.store.get(botId, s.habitId);
      if (!habit) continue;
      await this.deps.proactive.cancel(botId, subscriptionPrefix(s.id), 'The contact changed time zone');
      await this.scheduleNext(habit, s, now, (await this.deps.store.lastAsked(s.id)) ?? undefined);
    }
  }

  /**
   * How asks are delivered by the proactive core. Quiet hours apply: the creator, not the contact,
   * chose the habit's time, so a habit set at 22:00 is asked when the bot's quiet hours end (still
   * once for that local day).
   */
  readonly content: ProactiveContent = {
    respectsQuietHours: true,
    // The next ask is scheduled once this one settles: held, the habit resumes after the release
    // instead of losing its streak to a skipped day.
    duringTakeover: 'hold',
    message: async (send) => {
      const key = ASK_KEY.exec(send.effectKey);
      const subscription = key ? await this.deps.store.subscription(send.botId, key[1]!) : null;
      if (!key || !subscription) return { cancel: 'The subscription no longer exists' };
      if (subscription.status !== 'active') return { cancel: subscription.status === 'paused' ? 'The subscription is paused' : 'The contact left the habit' };
      const habit = await this.deps.store.get(send.botId, subscription.habitId);
      if (!habit) return { cancel: 'The habit was deleted' };
      return { message: askMessage(habit, subscription.id, key[2]!) };
    },
    settled: async (send, outcome) => this.askSettled(send, outcome),
  };

  private async askSettled(send: ProactiveSend, outcome: SettledOutcome): Promise<void> {
    const key = ASK_KEY.exec(send.effectKey);
    if (!key || outcome.status === 'cancelled') return;
    const subscription = await this.deps.store.subscription(send.botId, key[1]!);
    if (!subscription || subscription.status !== 'active') return;
    // Nobody to ask (opted out, blocked, forgotten): pause rather than log a skipped ask every day.
    if (outcome.status === 'skipped' && outcome.contactUnreachable) {
      await this.deps.store.setStatus(subscription.id, 'paused');
      return;
    }
    const habit = await this.deps.store.get(send.botId, subscription.habitId);
    if (!habit) return;
    const now = this.deps.clock();
    await this.scheduleNext(habit, subscription, now.getTime() > send.dueAt.getTime() ? now : send.dueAt, key[2]!);
  }

  // ---- chat ----

  async command(turn: ClaimedTurn, contact: CoachingContact, name: string, payload: string): Promise<OutboundMessage | null> {
    if (name === 'habits' || (name === 'habit' && !payload)) return this.menu(turn, contact);
    if (name === 'streak') return this.streaks(contact);
    if (name !== 'habit') return null;
    const stop = /^(stop|leave)\s+(.+)$/i.exec(payload);
    if (stop) return this.leave(turn, contact, stop[2]!.trim());
    const habit = await this.deps.store.byNameOrId(turn.botId, payload);
    if (!habit) return { text: `I don't know a habit called "${payload}". Send /habits to see them.` };
    return this.join(habit, contact, turn.conversationId);
  }

  async callback(turn: ClaimedTurn, contact: CoachingContact, data: string): Promise<OutboundMessage | null> {
    const join = JOIN_DATA.exec(data);
    if (join) {
      const habit = await this.deps.store.get(turn.botId, join[1]!);
      return habit ? this.join(habit, contact, turn.conversationId) : { text: 'That habit is no longer offered.' };
    }
    const answer = CHECK_IN_DATA.exec(data);
    if (!answer) return null;
    const subscription = await this.deps.store.subscription(turn.botId, answer[1]!);
    if (!subscription || subscription.contactId !== contact.id) return { text: 'That check-in is no longer open.' };
    return this.record(subscription, answer[2]!, answer[3] === 'd' ? 'done' : 'skipped', 'button');
  }

  async text(_turn: ClaimedTurn, contact: CoachingContact, text: string): Promise<OutboundMessage | null> {
    const status = DONE_TEXT.test(text) ? 'done' : SKIP_TEXT.test(text) ? 'skipped' : null;
    if (!status) return null;
    const key = ASK_KEY.exec((await this.deps.store.latestAsk(contact.id, new Date(this.deps.clock().getTime() - PLAIN_ANSWER_WINDOW_MS))) ?? '');
    const subscription = key ? await this.deps.store.subscription(contact.botId, key[1]!) : null;
    if (!key || !subscription || subscription.contactId !== contact.id) return null;
    return this.record(subscription, key[2]!, status, 'text');
  }

  private async record(subscription: HabitSubscription, localDate: LocalDate, status: 'done' | 'skipped', source: 'button' | 'text'): Promise<OutboundMessage> {
    const habit = await this.deps.store.get(subscription.botId, subscription.habitId);
    if (!habit) return { text: 'That habit is no longer offered.' };
    await this.deps.store.checkIn(subscription.id, { localDate, status }, source);
    if (status === 'skipped') return { text: `Okay — noted for “${habit.name}”. Tomorrow is another day.` };
    const { stats } = await this.withStats(habit, subscription);
    const unit = stats.streakUnit === 'weeks' ? 'week' : 'day';
    const streak = stats.currentStreak > 1 ? ` That's ${stats.currentStreak} ${unit}s in a row.` : '';
    return { text: `Nice — “${habit.name}” done.${streak}` };
  }

  private async menu(turn: ClaimedTurn, contact: CoachingContact): Promise<OutboundMessage> {
    const habits = await this.deps.store.list(turn.botId);
    if (habits.length === 0) return { text: 'There are no habits to join yet.' };
    const mine = new Set((await this.deps.store.ofContact(contact.id, ['active'])).map((s) => s.habitId));
    const lines = habits.map((h) => `• ${h.name} — ${h.localTime}${mine.has(h.id) ? ' (joined)' : ''}`);
    const open = habits.filter((h) => !mine.has(h.id)).slice(0, 10);
    return {
      text: `Habits:\n${lines.join('\n')}\n\n${open.length ? 'Tap one to join, or send /habit followed by its name.' : 'Send /habit stop followed by a name to leave one.'}`,
      ...(open.length ? { buttons: open.map((h) => ({ id: `hj:${h.id}`, title: h.name.slice(0, 60) })) } : {}),
    };
  }

  private async join(habit: Habit, contact: CoachingContact, conversationId: string): Promise<OutboundMessage> {
    const { created, next, zone } = await this.subscribe(habit, contact, conversationId);
    const intro = created ? `You've joined “${habit.name}”.` : `You're in “${habit.name}”.`;
    if (!next) return { text: intro };
    return { text: `${intro} I'll ask you ${describeLocalTime(next.dueAt, zone, this.deps.clock())} (${zone}).` };
  }

  private async leave(turn: ClaimedTurn, contact: CoachingContact, nameOrId: string): Promise<OutboundMessage> {
    const habit = await this.deps.store.byNameOrId(turn.botId, nameOrId);
    const subscription = habit && (await this.deps.store.ofContact(contact.id, ['active', 'paused'])).find((s) => s.habitId === habit.id);
    if (!habit || !subscription) return { text: `You're not in a habit called "${nameOrId}".` };
    await this.deps.store.setStatus(subscription.id, 'stopped');
    await this.deps.proactive.cancel(subscription.botId, subscriptionPrefix(subscription.id), 'The contact left the habit');
    return { text: `You've left “${habit.name}”. I won't ask about it any more.` };
  }

  private async streaks(contact: CoachingContact): Promise<OutboundMessage> {
    const subscriptions = await this.deps.store.ofContact(contact.id, ['active', 'paused']);
    const lines: string[] = [];
    for (const s of subscriptions) {
      const habit = await this.deps.store.get(s.botId, s.habitId);
      if (!habit) continue;
      const { stats } = await this.withStats(habit, s);
      const unit = stats.streakUnit;
      const recent =
        unit === 'weeks'
          ? stats.last30.rate === null ? '' : `, weeks met lately ${stats.last30.done}/${stats.last30.due}`
          : stats.last7.rate === null ? '' : `, last 7 days ${stats.last7.done}/${stats.last7.due}`;
      lines.push(`• ${habit.name}: ${stats.currentStreak} ${unit} in a row (best ${stats.longestStreak}${recent})`);
    }
    return { text: lines.length ? `Your streaks:\n${lines.join('\n')}` : "You haven't joined a habit yet. Send /habits to see them." };
  }
}
