import type { InboundMessage, OutboundMessage, ReplyEvent, ReplyEventBus } from './channel.ports.js';
import { NotFoundError } from '../errors/app.errors.js';
import type { InboundService } from './inbound.service.js';
import type { TurnSource } from './types.js';

/** What a web chat page sends: typed text or a pressed button, with the page's own id for the message. */
export interface WebChatInput {
  messageId: string;
  text?: string | undefined;
  button?: string | undefined;
}

/** What became of one web chat message, as stored. */
export type WebMessageOutcome =
  | { state: 'unknown' }
  | { state: 'pending'; inboundId: string }
  | { state: 'answered'; inboundId: string; text: string; sources: TurnSource[] }
  /** Settled without a reply (e.g. a button press that needed none). */
  | { state: 'silent'; inboundId: string }
  | { state: 'failed'; inboundId: string };

/** The stored side of web chat messages. */
export interface WebMessageStore {
  /** The inbound message `externalId` of the bot's web conversation `conversationId`, and what became of it. */
  outcome(botId: string, conversationId: string, externalId: string): Promise<WebMessageOutcome>;
}

/** How the web channel (channels/web) names and shapes what a page sends. */
export interface WebChatChannel {
  toInbound(conversationId: string, input: WebChatInput): InboundMessage;
  /** The stored external id of the page's message `messageId`. */
  externalId(conversationId: string, messageId: string): string;
  /** The page's id of a stored message. */
  messageId(conversationId: string, externalId: string): string;
}

/** What a waiting page is told, in order: drafts of the reply, then one final event. */
export type WebChatEvent =
  /** The draft grows by `text` after its first `offset` characters (0 again: it starts over). */
  | { type: 'draft'; offset: number; text: string }
  | { type: 'reply'; text: string; sources: TurnSource[]; buttons?: OutboundMessage['buttons'] }
  | { type: 'silent' }
  | { type: 'failed' };

/** A message the page did not ask for (the creator's own while they have the conversation, a notice, a proactive message). */
export interface WebCoachMessage {
  /** The id its history shows it under too. */
  id: string;
  text: string;
  at: string;
  /** 'person': written by someone of the bot's team, not generated. */
  from: 'coach' | 'person';
}

export interface WebChatServiceDeps {
  inbound: Pick<InboundService, 'receive'>;
  events: Pick<ReplyEventBus, 'subscribe'>;
  messages: WebMessageStore;
  channel: WebChatChannel;
  /**
   * How long a waiting request trusts the event bus before looking in the database: pub/sub keeps
   * nothing for a listener that missed an event (a reconnecting subscriber, a restarted process).
   */
  recheckMs?: number;
}

const DEFAULT_RECHECK_MS = 3_000;

/** Reply events queued for one waiting request. */
class EventQueue {
  private readonly events: ReplyEvent[] = [];
  private wake: (() => void) | undefined;

  push(event: ReplyEvent): void {
    this.events.push(event);
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** The next event; undefined after `ms` without one, or once `signal` is aborted. */
  async next(ms: number, signal?: AbortSignal): Promise<ReplyEvent | undefined> {
    const queued = this.events.shift();
    if (queued || signal?.aborted) return queued;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
    this.wake = undefined;
    return this.events.shift();
  }
}

/**
 * Web chat on the one answer path of every channel: a message is stored and queued like a
 * Telegram update, a worker (in this process or another) answers it under the same locks, gate and
 * ledger, and the page's open request follows the turn through the reply event bus. A request
 * that drops can follow the same message again and gets the rest of the draft or the reply, once.
 */
export class WebChatService {
  constructor(private readonly deps: WebChatServiceDeps) {}

  /** Stores the message (once per `messageId`) and follows its turn until it is answered. */
  send(botId: string, conversationId: string, input: WebChatInput, signal?: AbortSignal): AsyncIterable<WebChatEvent> {
    return this.follow(botId, conversationId, input.messageId, signal, async () => {
      const received = await this.deps.inbound.receive(botId, this.deps.channel.toInbound(conversationId, input));
      return received.inboundId;
    });
  }

  /** Follows a message sent before (after a dropped connection or a reload); NotFoundError when there is none. */
  resume(botId: string, conversationId: string, messageId: string, signal?: AbortSignal): AsyncIterable<WebChatEvent> {
    return this.follow(botId, conversationId, messageId, signal);
  }

  /** Whether the page's message `messageId` is stored already (the page is sending it again). */
  async isStored(botId: string, conversationId: string, messageId: string): Promise<boolean> {
    const outcome = await this.deps.messages.outcome(botId, conversationId, this.deps.channel.externalId(conversationId, messageId));
    return outcome.state !== 'unknown';
  }

  /**
   * Calls `listener` with each message of the conversation that answers none of the page's own,
   * from the moment this resolves; resolves to an unsubscribe. What a page misses while it is not
   * listening is in its history.
   */
  watch(botId: string, conversationId: string, listener: (message: WebCoachMessage) => void): Promise<() => Promise<void>> {
    return this.deps.events.subscribe(botId, conversationId, (event) => {
      if (event.type !== 'reply' || event.turn || !event.id) return;
      listener({ id: event.id, text: event.message.text, at: event.at ?? new Date().toISOString(), from: event.message.byPerson ? 'person' : 'coach' });
    });
  }

  /** The page's id of a message of the conversation as stored. */
  messageIdOf(conversationId: string, externalId: string): string {
    return this.deps.channel.messageId(conversationId, externalId);
  }

  private async *follow(
    botId: string,
    conversationId: string,
    messageId: string,
    signal: AbortSignal | undefined,
    store?: () => Promise<string>,
  ): AsyncGenerator<WebChatEvent> {
    const { deps } = this;
    const queue = new EventQueue();
    const externalId = deps.channel.externalId(conversationId, messageId);
    // Listening before the message is stored or looked up: no event of its turn can slip past.
    const unsubscribe = await deps.events.subscribe(botId, conversationId, (event) => queue.push(event));
    try {
      let inboundId = store ? await store() : undefined;
      // Buttons of the reply (the database keeps its text and sources, not its buttons).
      let buttons: OutboundMessage['buttons'];
      for (;;) {
        const outcome = await deps.messages.outcome(botId, conversationId, externalId);
        if (outcome.state === 'unknown') {
          if (!inboundId) throw new NotFoundError('Message');
          // Stored a moment ago and gone already: the visitor asked to be forgotten meanwhile.
          yield { type: 'silent' };
          return;
        }
        inboundId = outcome.inboundId;
        if (outcome.state === 'answered') {
          yield { type: 'reply', text: outcome.text, sources: outcome.sources, ...(buttons?.length ? { buttons } : {}) };
          return;
        }
        if (outcome.state !== 'pending') {
          yield { type: outcome.state };
          return;
        }
        // Drafts until the reply is out, or until it is time to look in the database again. The
        // reply itself is read from the database, which has it (and its sources) by the time it is
        // published, whichever attempt sent it.
        for (;;) {
          const event = await queue.next(deps.recheckMs ?? DEFAULT_RECHECK_MS, signal);
          if (signal?.aborted) return;
          if (!event) break;
          if (!event.turn?.inboundIds.includes(inboundId)) continue;
          if (event.type === 'reply') {
            buttons = event.message.buttons;
            break;
          }
          yield { type: 'draft', offset: event.offset, text: event.text };
        }
      }
    } finally {
      await unsubscribe();
    }
  }
}
