/**
 * What billing needs from a payment provider, from storage and from whoever tells people about
 * their billing. The Stripe adapter lives in src/payments, stores in src/db; billing itself never
 * sees the SDK or SQL.
 */
import type { BillingReference } from './billing-reference.js';
import type { ContactPremium } from './entitlements.js';
import type { BillingDomainEvent, SubscriptionRecord } from './subscription-state.js';
import type { StripeEventEnvelope } from './stripe-objects.js';

export type { StripeEventEnvelope } from './stripe-objects.js';

export interface CreateCheckoutSessionInput {
  /** `subscription` for plans and recurring unlocks; `payment` for one-time unlocks. */
  mode: 'payment' | 'subscription';
  priceId: string;
  quantity?: number;
  /** Reuse the payer's existing customer so they keep one billing history; otherwise Checkout makes one. */
  customerId?: string;
  /** Prefills the email field when there is no customer yet. Ignored when `customerId` is set. */
  customerEmail?: string;
  /** Ties the session back to the payer; see billing-reference.ts. */
  clientReferenceId: string;
  /** Copied onto the session and onto the Subscription or PaymentIntent it creates. */
  metadata: Record<string, string>;
  successUrl: string;
  cancelUrl: string;
  /** The same key returns the same session instead of a second one (double clicks, retries). */
  idempotencyKey?: string;
}

export interface CheckoutSessionRef {
  id: string;
  /** Where to send the payer. */
  url: string;
}

/** A checkout the provider just created (or replayed for the same idempotency key). */
export interface CreatedCheckoutSession extends CheckoutSessionRef {
  /** After this the session can no longer be paid (Stripe: 24 hours after creation by default). */
  expiresAt: Date;
}

/** One swappable payment back end. Implementations: Stripe (src/payments), disabled. */
export interface PaymentGateway {
  /** Starts a hosted checkout. */
  createCheckoutSession(input: CreateCheckoutSessionInput): Promise<CreatedCheckoutSession>;
  /** A link to the provider's self-service page (cards, invoices, cancellation). */
  createPortalSession(input: { customerId: string; returnUrl: string }): Promise<{ url: string }>;
  /** The provider's current Subscription object, for `applySubscriptionObject`. */
  retrieveSubscription(subscriptionId: string): Promise<Record<string, unknown>>;
  /**
   * Checks a webhook delivery against its signature header over the exact received bytes and
   * returns the event; throws WebhookSignatureError when missing, wrong or too old.
   */
  verifyWebhook(rawBody: Buffer | string, signatureHeader: string | undefined): StripeEventEnvelope;
}


/** A notification an event raised, with the price of the subscription it concerns (for the plan's name). */
export type BillingEffect = BillingDomainEvent & { priceId?: string | null };

/** What applying one Stripe event to a payer's record came to; saved with the record in one transaction. */
export interface EventApplication {
  /** The payer's next record (the same object when nothing changed). */
  record: SubscriptionRecord;
  changed: boolean;
  /** The configured plan selling the record's price, stored beside it for reading (creators only). */
  planId: string | null;
  /** `applied` when notifications are still to be sent, `processed` when none are, `ignored` when nothing applied. */
  status: 'applied' | 'processed' | 'ignored';
  /** Why, in a few words (e.g. `changed`, `stale`, `duplicate`). */
  outcome: string;
  effects: BillingEffect[];
}

/** A stored Stripe event as the worker reads it. */
export interface StoredStripeEvent {
  id: string;
  type: string;
  status: 'pending' | 'applied' | 'processed' | 'ignored' | 'failed';
  payload: StripeEventEnvelope;
  effects: BillingEffect[];
}

/** Stripe events by id, and the payers' records they change. */
export interface StripeEventStore {
  /** Stores a verified event unless one with its id exists (ON CONFLICT DO NOTHING); whether it was new. */
  insert(event: StripeEventEnvelope): Promise<{ created: boolean }>;
  find(eventId: string): Promise<StoredStripeEvent | null>;
  /**
   * In one transaction: locks the payer's record (creating an empty one for a payer that exists
   * here), runs `apply` on it unless the event was applied already, and saves the record and the
   * event's status together. `unknown_payer` when the reference names no creator or contact here;
   * `already` when another attempt applied the event first.
   */
  applyToPayer(
    eventId: string,
    reference: BillingReference,
    apply: (record: SubscriptionRecord) => EventApplication,
  ): Promise<'unknown_payer' | 'already' | EventApplication>;
  /** The payer whose record mentions this Stripe subscription or customer id, if any. */
  locatePayer(keys: { subscriptionId: string | null; customerId: string | null }): Promise<BillingReference | null>;
  /** Settles an event that changed no record. */
  markIgnored(eventId: string, outcome: string): Promise<void>;
  /** Settles an applied event once its notifications are sent. */
  markProcessed(eventId: string): Promise<void>;
  /** Records that every retry failed. */
  markFailed(eventId: string, error: string): Promise<void>;
  /** Ids of events stored more than `olderThanMs` ago and not settled, oldest first (for re-enqueueing). */
  unsettled(olderThanMs: number, limit: number): Promise<string[]>;
}

/** The Checkout Session a creator was last sent to. */
export interface StoredCheckout {
  sessionId: string;
  url: string;
  planId: string;
  priceId: string;
  expiresAt: Date;
  /** Completed or expired, as Stripe told: it can no longer be paid. */
  ended: boolean;
}

/** Each creator's last Checkout Session, so a second click reuses it while it is open. */
export interface CheckoutStore {
  /** The creator's last session, ended or not; null when they never started one. */
  lastCheckout(creatorId: string): Promise<StoredCheckout | null>;
  /** Records the session the creator is sent to, in place of the one before. */
  saveCheckout(creatorId: string, checkout: Omit<StoredCheckout, 'ended'>): Promise<void>;
  /** Marks a session as ended (completed or expired); a session not stored is no matter. */
  endCheckout(sessionId: string): Promise<void>;
}

/** The Stripe records of payers, for reading plans. */
export interface PayerRecordStore {
  creatorRecord(creatorId: string): Promise<SubscriptionRecord | null>;
}

/** How much of a plan a creator uses now. */
export interface CreatorUsageCounts {
  bots: number;
  documents: number;
  storageBytes: number;
  contacts: number;
}

/** What the reply gate asks about a turn's contact before deciding. */
export interface ContactStandingQuery {
  turnId: string;
  conversationId: string;
  botId: string;
  creatorId: string;
  /** Also count the creator's contacts (over all bots) that came before this one. */
  contacts: boolean;
  /** Also read the contact's premium standing with the bot: replies delivered since then, and what they paid for. */
  deliveredSince: Date | null;
}

/** A turn's contact as the reply gate sees them; the optional parts only when asked. */
export interface ContactStanding {
  /** The turn already holds a counted reply (a retry of an allowed turn). */
  counted: boolean;
  contactId: string;
  contactsBefore?: number;
  /**
   * Replies of the bot delivered to the contact since `deliveredSince`. Replies counted before the
   * bot's premium was switched on count whether or not their delivery was recorded (it is recorded
   * only while premium is on, the only time it is read).
   */
  delivered?: number;
  /** The contact's own payment record with the bot, if they ever started one. */
  unlock?: SubscriptionRecord | null;
}

/** What counting a turn's reply came to. */
/** A turn's reply to count against its creator's period (`limit` null = unlimited). */
export interface ReplyClaimInput {
  turnId: string;
  conversationId: string;
  botId: string;
  creatorId: string;
  period: { start: Date; end: Date };
  limit: number | null;
}

export type ReplyClaim =
  /** Counted now. */
  | 'counted'
  /** Counted by an earlier attempt of the same turn. */
  | 'already'
  /** The creator's period has its limit of replies: not counted. */
  | 'limit_reached'
  /** The conversation (or its bot) no longer exists. */
  | 'gone';

/** Usage counting; the reply counter is exact under concurrency and keyed by turn. */
export interface UsageStore {
  counts(creatorId: string): Promise<CreatorUsageCounts>;
  /** Replies counted in the creator's usage period starting at `periodStart`. */
  repliesIn(creatorId: string, periodStart: Date): Promise<number>;
  /** The creator whose plan a bot's replies count against; null when the bot does not exist. */
  creatorOf(botId: string): Promise<string | null>;
  /** One read of what the gate needs to know about a turn's contact; null when the conversation is gone. */
  contactStanding(query: ContactStandingQuery): Promise<ContactStanding | null>;
  /**
   * Counts one reply for the turn, in one atomic step, unless the turn holds one already or the
   * creator's period starting at `period.start` has `limit` replies (null = unlimited): concurrent
   * turns of one creator never pass the limit, and a turn is counted once whatever its retries.
   */
  claimReply(input: ReplyClaimInput): Promise<ReplyClaim>;
  /** Records that the turn's counted reply was delivered (read by premium's free allowance). */
  markDelivered(turnId: string): Promise<void>;
}

/** Per-bot end-user premium settings. Reads and writes of creators are scoped by the caller's bot check. */
export interface BotPremiumStore {
  find(botId: string): Promise<ContactPremium | null>;
  save(botId: string, premium: ContactPremium): Promise<void>;
  remove(botId: string): Promise<boolean>;
}

/** A creator as billing needs them. */
export interface BillingCreator {
  id: string;
  email: string;
  name: string;
}

export interface CreatorDirectory {
  findById(id: string): Promise<BillingCreator | null>;
}

/** A Stripe event to the worker queue; job id = event id, so a redelivery never queues twice. */
export interface StripeEventQueue {
  enqueue(eventId: string): Promise<void>;
  /** Adds the job unless a live one exists (a finished one is replaced); whether it added. */
  ensure(eventId: string): Promise<boolean>;
}

/** The inputs of the payment-failed email: what billing tells a creator whose renewal failed. */
export interface PaymentFailedNotice {
  name: string;
  planName: string;
  /** Minor units, as Stripe reports them. */
  amountDue: { amount: number; currency: string } | null;
  /** When the plan lapses without payment; null if unknown. */
  accessUntil: Date | null;
  /** When the card will be tried again automatically; null if not. */
  nextAttempt: Date | null;
  /** Billing portal or hosted invoice page. */
  updatePaymentUrl: string;
  /** The plan creators fall back to, e.g. "Free". */
  fallbackPlanName: string;
}

/** The inputs of the subscription-ended email. */
export interface SubscriptionEndedNotice {
  name: string;
  planName: string;
  endedAt: Date;
  /** The plan the account is on now, e.g. "Free". */
  fallbackPlanName: string;
  /** Its limits in words, e.g. ["1 bot", "20 documents", "500 replies a month"]. */
  fallbackLimits: string[];
  resubscribeUrl: string;
}

/** Tells creators about their billing by email; `dedupeKey` makes a repeated call send once. */
export interface BillingNotifier {
  paymentFailed(creatorId: string, data: PaymentFailedNotice, dedupeKey: string): Promise<void>;
  subscriptionEnded(creatorId: string, data: SubscriptionEndedNotice, dedupeKey: string): Promise<void>;
}

/** Sends a contact a chat message that answers no turn, once per `dedupeKey`. */
export interface ContactMessenger {
  notify(botId: string, contactId: string, text: string, dedupeKey: string): Promise<void>;
}
