import type { BotService } from '../bots/bot.service.js';
import { NotFoundError } from '../errors/app.errors.js';
import { PerBotCache } from '../cache/per-bot.cache.js';

/** What a creator chose for the bot's public web chat page and widget. */
export interface WebPublication {
  botId: string;
  /** Sites (scheme://host[:port]) besides the platform itself that may call the public endpoints. */
  allowedOrigins: string[];
  title: string | null;
  accentColor: string | null;
  welcome: string | null;
}

/** A published bot as its public page shows it. */
export interface PublishedBot extends WebPublication {
  name: string;
  creatorId: string;
}

/** Where publications are kept (src/db/web-chat.repository.ts). */
export interface WebPublicationStore {
  upsert(publication: WebPublication): Promise<void>;
  /** Whether there was a publication to remove. */
  remove(botId: string): Promise<boolean>;
  /** The publication with the bot's name and creator; null when the bot is unknown or unpublished. */
  findPublished(botId: string): Promise<PublishedBot | null>;
}

export interface WebPublicationInput {
  allowedOrigins?: string[] | undefined;
  title?: string | undefined;
  accentColor?: string | undefined;
  welcome?: string | undefined;
}

export interface WebPublicationLinks {
  chatUrl: string;
  embedSnippet: string;
}

// The public page reads the publication for every page view and message; another process's
// change shows within this time, this process's at once.
const PUBLICATION_TTL_MS = 5_000;

/** Publishing a bot's web chat to the world, and reading what a public page needs. */
export class WebPublicationService {
  private readonly published: PerBotCache<PublishedBot>;

  constructor(
    private readonly deps: {
      bots: Pick<BotService, 'get'>;
      store: WebPublicationStore;
      /** The platform's address as visitors reach it (PUBLIC_URL or http://localhost:PORT). */
      baseUrl: string;
    },
  ) {
    this.published = new PerBotCache((botId) => deps.store.findPublished(botId), { ttlMs: PUBLICATION_TTL_MS });
  }

  /** Publishes (or republishes with new settings) the creator's bot; answers its links. */
  async publish(creatorId: string, botId: string, input: WebPublicationInput): Promise<WebPublicationLinks> {
    const bot = await this.deps.bots.get(creatorId, botId);
    await this.deps.store.upsert({
      botId: bot.id,
      // One spelling per origin, so the check at request time is a plain comparison.
      allowedOrigins: [...new Set((input.allowedOrigins ?? []).map((o) => new URL(o).origin))],
      title: input.title ?? null,
      accentColor: input.accentColor?.toLowerCase() ?? null,
      welcome: input.welcome ?? null,
    });
    this.published.invalidate(bot.id);
    return this.links(bot.id);
  }

  /** The creator's published web chat: its settings and links; 404 while unpublished. */
  async settings(creatorId: string, botId: string): Promise<WebPublicationLinks & Omit<WebPublication, 'botId'>> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const published = await this.deps.store.findPublished(bot.id);
    if (!published) throw new NotFoundError('Web channel');
    return { ...this.links(bot.id), allowedOrigins: published.allowedOrigins, title: published.title, accentColor: published.accentColor, welcome: published.welcome };
  }

  /** Takes the bot's public chat down; the creator's preview keeps working. */
  async unpublish(creatorId: string, botId: string): Promise<void> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const removed = await this.deps.store.remove(bot.id);
    this.published.invalidate(bot.id);
    if (!removed) throw new NotFoundError('Web channel');
  }

  /** The published bot, or null when unknown or unpublished. */
  find(botId: string): Promise<PublishedBot | null> {
    return this.published.get(botId);
  }

  /** Drops what this process cached about a bot (deleted). */
  forget(botId: string): void {
    this.published.invalidate(botId);
  }

  /** The platform's own origin, which may always call the public endpoints. */
  get ownOrigin(): string {
    return new URL(this.deps.baseUrl).origin;
  }

  private links(botId: string): WebPublicationLinks {
    const base = this.deps.baseUrl;
    return {
      chatUrl: `${base}/c/${botId}`,
      embedSnippet: `<script src="${base}/widget.js" data-bot="${botId}" async></script>`,
    };
  }
}
