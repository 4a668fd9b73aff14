import { NotFoundError, ValidationError } from '../errors/app.errors.js';
import type { ContactSummary, ContactTagStore } from './contact-tag.ports.js';

/** Longest tag: a Telegram deep-link payload (64 characters) fits. */
export const MAX_TAG_LENGTH = 64;
/** Tags one contact may carry: enough to segment by, few enough to read at a glance. */
export const MAX_TAGS_PER_CONTACT = 50;

// Letters and digits of any script, then also `_ . : -`; no spaces, so a tag reads as one word in a URL or a list.
const TAG_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N}_.:-]*$/u;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A tag as stored: trimmed, NFC, lower case; null when it is empty, too long or has other characters. */
export function normaliseTag(raw: string): string | null {
  const tag = raw.normalize('NFC').trim().toLowerCase();
  if (tag.length === 0 || [...tag].length > MAX_TAG_LENGTH || !TAG_PATTERN.test(tag)) return null;
  return tag;
}

function normaliseAll(raw: string[], field: string): string[] {
  const invalid = raw.filter((t) => normaliseTag(t) === null);
  if (invalid.length > 0) {
    throw new ValidationError(
      `${field} must be 1–${MAX_TAG_LENGTH} letters, digits, "_", ".", ":" or "-", starting with a letter or digit`,
      { invalid: invalid.slice(0, 10) },
    );
  }
  return [...new Set(raw.map((t) => normaliseTag(t)!))];
}

function tooMany(): ValidationError {
  return new ValidationError(`A contact can have at most ${MAX_TAGS_PER_CONTACT} tags`, { max: MAX_TAGS_PER_CONTACT });
}

/**
 * Contact tags and the contact list, for creators; every call is scoped to one of the creator's bots
 * (NOT_FOUND for another creator's bot or contact). Tags are case-insensitive: stored normalised.
 */
export class ContactTagService {
  constructor(
    private readonly deps: {
      bots: { get(creatorId: string, botId: string): Promise<{ id: string }> };
      store: ContactTagStore;
    },
  ) {}

  /** The contact's tags. */
  async tags(creatorId: string, botId: string, contactId: string): Promise<string[]> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const tags = UUID.test(contactId) ? await this.deps.store.tagsOf(bot.id, contactId) : null;
    if (tags === null) throw new NotFoundError('Contact');
    return tags;
  }

  /** Replaces the contact's tags; resolves to them. */
  async replace(creatorId: string, botId: string, contactId: string, raw: string[]): Promise<string[]> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const tags = normaliseAll(raw, 'tags');
    if (tags.length > MAX_TAGS_PER_CONTACT) throw tooMany();
    const result = UUID.test(contactId) ? await this.deps.store.replace(bot.id, contactId, tags) : 'no_contact';
    if (result === 'no_contact') throw new NotFoundError('Contact');
    return result;
  }

  /** Adds tags to the contact's; resolves to all of them. */
  async add(creatorId: string, botId: string, contactId: string, raw: string[]): Promise<string[]> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const tags = normaliseAll(raw, 'tags');
    const result = UUID.test(contactId) ? await this.deps.store.add(bot.id, contactId, tags, MAX_TAGS_PER_CONTACT) : 'no_contact';
    if (result === 'no_contact') throw new NotFoundError('Contact');
    if (result === 'too_many') throw tooMany();
    return result;
  }

  /** Removes one tag (matched case-insensitively); resolves to the contact's tags. */
  async remove(creatorId: string, botId: string, contactId: string, raw: string): Promise<string[]> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const [tag] = normaliseAll([raw], 'tag');
    const result = UUID.test(contactId) ? await this.deps.store.remove(bot.id, contactId, tag!) : 'no_contact';
    if (result === 'no_contact') throw new NotFoundError('Contact');
    return result;
  }

  /** The bot's contacts newest first, optionally only those tagged `tag`. */
  async list(creatorId: string, botId: string, filter: { tag?: string | undefined; before?: string | undefined; limit: number }): Promise<ContactSummary[]> {
    const bot = await this.deps.bots.get(creatorId, botId);
    if (filter.before !== undefined && !UUID.test(filter.before)) throw new ValidationError('before must be a contact id', { before: filter.before });
    // `?tag=` with nothing after it lists every contact.
    const tag = filter.tag ? normaliseAll([filter.tag], 'tag')[0] : undefined;
    return this.deps.store.list(bot.id, { limit: filter.limit, ...(tag ? { tag } : {}), ...(filter.before ? { before: filter.before } : {}) });
  }

  /**
   * Tags a contact with a deep link's payload (`/start ig_spring`), so the creator sees where they
   * came from; a payload that is no valid tag, or a contact at the limit, is left as it is.
   */
  async tagFromDeepLink(botId: string, contactId: string, payload: string): Promise<void> {
    const tag = normaliseTag(payload);
    if (tag) await this.deps.store.add(botId, contactId, [tag], MAX_TAGS_PER_CONTACT);
  }
}
