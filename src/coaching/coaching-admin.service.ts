import { NotFoundError, ValidationError } from '../errors/app.errors.js';
import { canonicalTimeZone } from './local-time.js';
import type { CoachingContacts, ProactiveSend, ProactiveStatus } from './proactive.ports.js';

export interface ScheduledMessages {
  list(botId: string, filter: { contactId?: string; status?: ProactiveStatus; limit: number }): Promise<ProactiveSend[]>;
}

/** What creators manage of their contacts' coaching: time zones, and the proactive messages with their fate. */
export class CoachingAdminService {
  constructor(
    private readonly deps: {
      bots: { get(creatorId: string, botId: string): Promise<{ id: string }> };
      contacts: Pick<CoachingContacts, 'findContact' | 'setTimeZone'>;
      scheduled: ScheduledMessages;
      /** Told after a zone is set, so habit asks follow it. */
      zoneChanged?(botId: string, contactId: string): Promise<void>;
    },
  ) {}

  /** Sets a contact's time zone; VALIDATION_FAILED for a zone the runtime does not know, NOT_FOUND for another bot's contact. */
  async setTimeZone(creatorId: string, botId: string, contactId: string, zone: string): Promise<{ contactId: string; timeZone: string }> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const canonical = canonicalTimeZone(zone);
    if (!canonical) throw new ValidationError(`Unknown time zone "${zone}"`, { timeZone: zone });
    const contact = await this.deps.contacts.findContact(bot.id, contactId);
    if (!contact) throw new NotFoundError('Contact');
    await this.deps.contacts.setTimeZone(contact.id, canonical, 'api');
    await this.deps.zoneChanged?.(bot.id, contact.id);
    return { contactId: contact.id, timeZone: canonical };
  }

  /** The bot's proactive messages, latest due first, with why any was skipped. */
  async scheduled(creatorId: string, botId: string, filter: { contactId?: string; status?: ProactiveStatus; limit: number }): Promise<ProactiveSend[]> {
    const bot = await this.deps.bots.get(creatorId, botId);
    return this.deps.scheduled.list(bot.id, filter);
  }
}
