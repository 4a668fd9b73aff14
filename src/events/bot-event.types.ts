/**
 * What a creator's dashboard hears about one of their bots as it happens (`GET /v1/bots/:botId/events`).
 * Publishers are the data layer and the services that change what the dashboard shows; they never
 * wait for, or fail because of, an event.
 */

/** A ledger row's state: the outbound ledger's own, then what the channel reported. */
export type DeliveryEventStatus = 'pending' | 'sending' | 'sent' | 'delivered' | 'read' | 'failed';
export type DocumentEventStatus = 'queued' | 'processing' | 'ready' | 'failed';

export type BotEventInput =
  /** A user's message was stored (once per channel message, redeliveries excluded). */
  | { type: 'message'; conversationId: string; channel: string; contact: { displayName: string | null }; kind: string; preview: string; at: string }
  /** A reply or a message of the bot's own accord got its final text (again when a send is retried). */
  | { type: 'reply'; deliveryId: string; conversationId: string; text: string; sources: number; at: string }
  /** A ledger row changed state. */
  | { type: 'delivery'; id: string; conversationId: string; status: DeliveryEventStatus; error?: string; at: string }
  /** A document's ingestion moved on; `progress` 0..1 while processing, chunks and pages once ready. */
  | { type: 'document'; documentId: string; status: DocumentEventStatus; progress?: number; chunks?: number; pages?: number | null; error?: string; at: string }
  /**
   * A document is being re-embedded by a new model: `done` of its `total` chunks have the new
   * vectors (`embedding`); `switched` once it is searched by them and the old ones are gone.
   */
  | { type: 'reembed'; documentId: string; model: string; status: 'embedding' | 'switched'; done: number; total: number; at: string }
  /** Something about a conversation itself changed (taken over, released, a person asked for, the creator wrote). */
  | { type: 'conversation'; conversationId: string; change: ConversationChange; by: ConversationChangeBy; at: string };

/**
 * What changed about a conversation: `takeover`, `release` and `human_requested` as its transcript
 * records them; `creator_message_*` what became of a message the creator sent while taken over
 * (`pending`: the channel failed in passing and the worker retries; later changes come as `delivery`);
 * `message_held`: the contact's message arrived while taken over and was settled without an answer.
 */
export type ConversationChange =
  | 'takeover'
  | 'release'
  | 'human_requested'
  | 'message_held'
  | 'creator_message_sent'
  | 'creator_message_pending'
  | 'creator_message_failed';
/** Who changed it: `idle` is the release of a takeover left without a creator message. */
export type ConversationChangeBy = 'creator' | 'idle' | 'contact';

/** An event as subscribers get it: `eventId` is unique, sent as the SSE `id:` to resume after. */
export type BotEvent = BotEventInput & { eventId: string };

/** Publishes a bot's events to every process; never throws and never waits for the transport. */
export interface BotEventPublisher {
  publish(botId: string, event: BotEventInput): void;
}

/** Publishes nothing: where a caller has no one to tell (tests, scripts). */
export const noBotEvents: BotEventPublisher = { publish: () => undefined };

const PREVIEW_CHARS = 200;

/** The start of a message's text for a list, on one line. */
export function textPreview(text: string | undefined): string {
  const flat = (text ?? '').replace(/\s+/g, ' ').trim();
  return flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS - 1)}…` : flat;
}
