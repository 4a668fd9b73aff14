/**
 * Ports of contact tags: short labels on a bot's contacts (set by the creator, or by a `/start`
 * deep link's payload) that broadcasts can be aimed at. The adapter lives in src/db.
 */
import type { ChannelName } from '../conversation/channel.ports.js';

/** A contact as the creator's contact list shows it. */
export interface ContactSummary {
  id: string;
  channel: ChannelName;
  /** The name the channel gave, else @username, the phone number or a stand-in. */
  displayName: string;
  username: string | null;
  /** Normalised, alphabetical. */
  tags: string[];
  /** Proactive messages are not sent (/stop, STOP, or WhatsApp's marketing opt-out). */
  optedOut: boolean;
  /** The contact blocked the bot. */
  blocked: boolean;
  createdAt: Date;
}

/** Why a change to a contact's tags was refused. */
export type TagChangeRefusal = 'no_contact' | 'too_many';

export interface ContactTagStore {
  /** The contact's tags; null when the bot has no such contact. */
  tagsOf(botId: string, contactId: string): Promise<string[] | null>;
  /** Replaces the contact's tags with `tags` (already normalised and at most `max`). */
  replace(botId: string, contactId: string, tags: string[]): Promise<string[] | 'no_contact'>;
  /** Adds `tags`, unless the contact would then have more than `max`; resolves to the contact's tags. */
  add(botId: string, contactId: string, tags: string[], max: number): Promise<string[] | TagChangeRefusal>;
  /** Removes one tag (absent already is fine); resolves to the contact's tags. */
  remove(botId: string, contactId: string, tag: string): Promise<string[] | 'no_contact'>;
  /** The bot's contacts, newest first, optionally only those with `tag`; `before` is the last id of the previous page. */
  list(botId: string, filter: { tag?: string; before?: string; limit: number }): Promise<ContactSummary[]>;
}
