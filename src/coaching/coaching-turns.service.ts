import type { OutboundMessage } from '../conversation/channel.ports.js';
import type { ClaimedTurn, TurnInterceptor } from '../conversation/turn.ports.js';
import { canonicalTimeZone, describeLocalTime } from './local-time.js';
import { isCheckInText, type HabitTurns } from './habit.service.js';
import type { Clock, CoachingContact, CoachingContacts } from './proactive.ports.js';
import type { ProactiveService } from './proactive.service.js';
import { isReminderRequest, parseReminder } from './reminder.parser.js';

/** A stored one-off reminder. */
export interface StoredReminder {
  id: string;
  what: string;
  dueAt: Date;
  timeZone: string;
}

export interface ReminderStore {
  /** The turn's reminder, created on first use: a retried turn finds the one it made. */
  createForTurn(input: { turnId: string; botId: string; contactId: string; conversationId: string; what: string; dueAt: Date; timeZone: string }): Promise<StoredReminder>;
}

/** Program commands and button answers (src/coaching/program.service.ts), when programs are wired. */
export interface ProgramTurns {
  /** `/start <payload>` or `/program <slug>`: enrolls the contact; null when no program has that slug. */
  enrollBySlug(turn: ClaimedTurn, contact: CoachingContact, slug: string): Promise<OutboundMessage | null>;
  /** `/pause`, `/resume`, `/leave`. */
  control(turn: ClaimedTurn, contact: CoachingContact, action: 'pause' | 'resume' | 'leave'): Promise<OutboundMessage>;
  /** A press of a step question's button; null when the data is not such an answer. */
  answer(turn: ClaimedTurn, contact: CoachingContact, data: string): Promise<OutboundMessage | null>;
}

export interface CoachingTurnsDeps {
  contacts: CoachingContacts;
  proactive: Pick<ProactiveService, 'zoneOf' | 'schedule'>;
  reminders: ReminderStore;
  programs?: ProgramTurns;
  habits?: HabitTurns;
  /** Tags a contact with the payload of a deep link that named no program. */
  tags?: { tagFromDeepLink(botId: string, contactId: string, payload: string): Promise<void> };
  clock: Clock;
}

export const OPTED_OUT_REPLY: OutboundMessage = {
  text: "Okay — I won't send you any more messages of my own accord. I'll still answer when you write. Send /start to get them again.",
};
export const OPTED_IN_REPLY: OutboundMessage = { text: "Welcome back — you'll get my reminders and program messages again." };

const STOP_WORDS = /^(stop|unsubscribe)$/i;
const START_WORDS = /^(start|unstop)$/i;

/** The reminder's own message, sent when it is due. */
export function reminderMessage(what: string): OutboundMessage {
  return { text: what ? `⏰ Reminder: ${what}` : '⏰ Here is the reminder you asked for.' };
}

/**
 * The coaching side of a conversation, consulted before the coach answers a turn: /stop and STOP
 * (stored at once), /start again, /timezone, one-off reminders ("remind me at 7pm to stretch"), the
 * program commands, and habits (/habits, /habit, /streak, check-in buttons, a plain "done" answering
 * the latest ask). Anything else is left to the coach.
 */
export class CoachingTurns implements TurnInterceptor {
  constructor(private readonly deps: CoachingTurnsDeps) {}

  async intercept(turn: ClaimedTurn): Promise<OutboundMessage | null> {
    const last = turn.messages.at(-1);
    if (!last) return null;
    if (turn.kind === 'command' && last.command) return this.command(turn, last.command.name.toLowerCase(), last.command.payload?.trim() ?? '');
    if (turn.kind === 'callback') {
      const data = last.callback?.data;
      if (!data || (!this.deps.programs && !this.deps.habits)) return null;
      const contact = await this.deps.contacts.ofConversation(turn.conversationId);
      if (!contact) return null;
      return (await this.deps.habits?.callback(turn, contact, data)) ?? (await this.deps.programs?.answer(turn, contact, data)) ?? null;
    }
    if (turn.kind !== 'message') return null;
    const texts = turn.messages.filter((m) => m.kind === 'text' && m.text?.trim()).map((m) => m.text!.trim());
    if (texts.length !== 1) return null;
    const text = texts[0]!;
    if (STOP_WORDS.test(text)) return this.optOut(turn);
    if (START_WORDS.test(text)) return this.optIn(turn, true);
    if (isReminderRequest(text)) return this.remind(turn, text);
    // Only a message that reads as a check-in costs a look-up: most turns are for the coach.
    if (this.deps.habits && isCheckInText(text)) {
      const contact = await this.deps.contacts.ofConversation(turn.conversationId);
      if (contact) return this.deps.habits.text(turn, contact, text);
    }
    return null;
  }

  private async command(turn: ClaimedTurn, name: string, payload: string): Promise<OutboundMessage | null> {
    switch (name) {
      case 'stop':
        return this.optOut(turn);
      case 'start': {
        const back = await this.optIn(turn, false);
        if (payload) {
          const contact = await this.deps.contacts.ofConversation(turn.conversationId);
          const enrolled = contact && this.deps.programs ? await this.deps.programs.enrollBySlug(turn, contact, payload) : null;
          if (enrolled) return enrolled;
          // Not a program: the link says where the contact came from (`/start ig_spring`).
          if (contact) await this.deps.tags?.tagFromDeepLink(turn.botId, contact.id, payload);
        }
        return back;
      }
      case 'timezone':
        return this.timeZone(turn, payload);
      case 'program': {
        if (!this.deps.programs) return null;
        if (!payload) return { text: 'Send /program followed by the program\'s name, e.g. /program sleep-reset.' };
        const contact = await this.deps.contacts.ofConversation(turn.conversationId);
        return (contact && (await this.deps.programs.enrollBySlug(turn, contact, payload))) || { text: `I don't know a program called "${payload}".` };
      }
      case 'pause':
      case 'resume':
      case 'leave': {
        if (!this.deps.programs) return null;
        const contact = await this.deps.contacts.ofConversation(turn.conversationId);
        return contact ? this.deps.programs.control(turn, contact, name) : null;
      }
      case 'habit':
      case 'habits':
      case 'streak': {
        if (!this.deps.habits) return null;
        const contact = await this.deps.contacts.ofConversation(turn.conversationId);
        return contact ? this.deps.habits.command(turn, contact, name, payload) : null;
      }
      default:
        return null;
    }
  }

  private async optOut(turn: ClaimedTurn): Promise<OutboundMessage> {
    const contact = await this.deps.contacts.ofConversation(turn.conversationId);
    if (contact) await this.deps.contacts.setOptedOut(contact.id, true);
    return OPTED_OUT_REPLY;
  }

  /** Clears an opt-out; the reply only when there was one (or the contact typed START), else the usual /start. */
  private async optIn(turn: ClaimedTurn, typed: boolean): Promise<OutboundMessage | null> {
    const contact = await this.deps.contacts.ofConversation(turn.conversationId);
    if (!contact) return null;
    if (contact.optedOut) {
      await this.deps.contacts.setOptedOut(contact.id, false);
      return OPTED_IN_REPLY;
    }
    return typed ? { text: "You're all set — I'll keep sending your reminders and program messages." } : null;
  }

  private async timeZone(turn: ClaimedTurn, payload: string): Promise<OutboundMessage> {
    const contact = await this.deps.contacts.ofConversation(turn.conversationId);
    if (!contact) return { text: 'Something went wrong; please try again.' };
    if (!payload) {
      const zone = await this.deps.proactive.zoneOf(contact);
      return { text: `Your time zone is ${zone}. To change it, send /timezone followed by your zone, e.g. /timezone Europe/Paris.` };
    }
    const zone = canonicalTimeZone(payload);
    if (!zone) return { text: `I don't know the time zone "${payload}". Use a name like Europe/Paris, America/New_York or Asia/Tokyo.` };
    await this.deps.contacts.setTimeZone(contact.id, zone, 'user');
    await this.deps.habits?.zoneChanged(contact.botId, contact.id);
    return { text: `Got it — your time zone is now ${zone}.` };
  }

  private async remind(turn: ClaimedTurn, text: string): Promise<OutboundMessage> {
    const contact = await this.deps.contacts.ofConversation(turn.conversationId);
    if (!contact) return { text: 'Something went wrong; please try again.' };
    const zone = await this.deps.proactive.zoneOf(contact);
    const now = this.deps.clock();
    const request = parseReminder(text, now, zone);
    if (!request || request.kind === 'no_time') {
      return { text: 'When should I remind you? For example: "remind me in 10 minutes to stretch" or "remind me at 7pm to stretch".' };
    }
    if (request.at.getTime() <= now.getTime()) return { text: "That time has already passed — tell me a time that's still ahead." };
    const reminder = await this.deps.reminders.createForTurn({
      turnId: turn.id,
      botId: turn.botId,
      contactId: contact.id,
      conversationId: turn.conversationId,
      what: request.what,
      dueAt: request.at,
      timeZone: zone,
    });
    await this.deps.proactive.schedule({
      botId: turn.botId,
      contactId: contact.id,
      conversationId: turn.conversationId,
      effectKey: `reminder:${reminder.id}`,
      kind: 'reminder',
      dueAt: reminder.dueAt,
      message: reminderMessage(reminder.what),
    });
    const when = `${describeLocalTime(reminder.dueAt, reminder.timeZone, now)} (${reminder.timeZone})`;
    const hint = !contact.timeZone && contact.channel !== 'whatsapp' ? ' If that is not your time zone, send /timezone followed by yours, e.g. /timezone Europe/Paris.' : '';
    return { text: `I'll remind you ${when}${reminder.what ? ` to ${reminder.what}` : ''}.${hint}` };
  }
}
