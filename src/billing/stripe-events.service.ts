import { ZodError } from 'zod';
import { ValidationError } from '../errors/app.errors.js';
import { referenceFromMetadata, type BillingReference } from './billing-reference.js';
import { PaymentProviderError } from './billing.errors.js';
import { describeLimits, type BillingUrls } from './billing.service.js';
import { freePlan, planForPrice, type Plan } from './plans.js';
import type {
  BillingEffect,
  BillingNotifier,
  CheckoutStore,
  ContactMessenger,
  CreatorDirectory,
  EventApplication,
  PaymentGateway,
  StoredStripeEvent,
  StripeEventEnvelope,
  StripeEventQueue,
  StripeEventStore,
} from './ports.js';
import { readCheckoutSession, readSubscription, stripeEventSchema } from './stripe-objects.js';
import { applyStripeEvent, applySubscriptionObject, stripeEventKeys, type SubscriptionRecord } from './subscription-state.js';

export interface StripeEventServiceDeps {
  gateway: Pick<PaymentGateway, 'verifyWebhook' | 'retrieveSubscription'>;
  events: StripeEventStore;
  /** Creators' last checkouts: a completed or expired session is not handed out again. */
  checkouts: Pick<CheckoutStore, 'endCheckout'>;
  queue: StripeEventQueue;
  plans: readonly Plan[];
  creators: CreatorDirectory;
  notifier: BillingNotifier;
  messenger: ContactMessenger;
  urls: Pick<BillingUrls, 'portalReturn'>;
  clock?: () => Date;
  /** Told when an event was stored but could not be queued; the sweep queues it later. */
  onEnqueueFailed?(err: unknown, eventId: string): void;
}

/** What processing one stored event came to. */
export type StripeEventOutcome = 'processed' | 'ignored' | 'settled' | 'gone';

/** The chat message a contact gets once their payment unlocked the bot. */
export function unlockedText(mode: string): string {
  return mode === 'subscription'
    ? 'Thank you for subscribing! Premium coaching is unlocked. Ask me anything.'
    : 'Thank you! Premium coaching is unlocked. Ask me anything.';
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

/** A subscription worth fetching from Stripe for this event, if any. */
function subscriptionToFetch(event: StripeEventEnvelope, subscriptionId: string | null, payerKnown: boolean): string | null {
  if (!subscriptionId) return null;
  if (event.type === 'checkout.session.completed' || event.type === 'checkout.session.async_payment_succeeded') {
    // The plan should apply as soon as the checkout completes, whether or not (and in whichever
    // order) the subscription's own events arrive: read the subscription as it is now.
    try {
      return readCheckoutSession(event.data.object).mode === 'subscription' ? subscriptionId : null;
    } catch {
      return null;
    }
  }
  // An invoice of an old API version names its subscription but not its payer; the subscription's
  // metadata does.
  if (event.type.startsWith('invoice.') && !payerKnown) return subscriptionId;
  return null;
}

/**
 * Stripe webhooks in two halves. `receive` (in the request) verifies the signature over the raw
 * bytes, stores the event by id and queues it. `process` (in the worker) applies it to the
 * payer's record — the order of arrival does not matter, the object's own state and timestamps
 * do — and then sends the notifications it raised, each once.
 */
export class StripeEventService {
  private readonly now: () => Date;

  constructor(private readonly deps: StripeEventServiceDeps) {
    this.now = deps.clock ?? (() => new Date());
  }

  /**
   * Verifies and stores a webhook delivery. Throws WebhookSignatureError (400) for a bad signature
   * or stale timestamp, before anything is stored; storage failures propagate (the caller answers 503).
   */
  async receive(rawBody: Buffer, signatureHeader: string | undefined): Promise<{ eventId: string; type: string; duplicate: boolean }> {
    const verified = this.deps.gateway.verifyWebhook(rawBody, signatureHeader);
    const envelope = stripeEventSchema.safeParse(verified);
    if (!envelope.success) throw new ValidationError('The signed payload is not a Stripe event (id, type, created, data.object)');
    const { created } = await this.deps.events.insert(verified);
    // Stored is what counts: a failed enqueue is picked up by the sweep.
    await this.deps.queue.enqueue(verified.id).catch((err: unknown) => this.deps.onEnqueueFailed?.(err, verified.id));
    return { eventId: verified.id, type: verified.type, duplicate: !created };
  }

  /** Applies a stored event and sends what it raised; safe to run any number of times. */
  async process(eventId: string): Promise<StripeEventOutcome> {
    const stored = await this.deps.events.find(eventId);
    if (!stored) return 'gone';
    if (stored.status === 'processed' || stored.status === 'ignored') return 'settled';
    let effects: BillingEffect[];
    if (stored.status === 'applied') {
      effects = stored.effects;
    } else {
      const applied = await this.apply(stored);
      if (applied === 'ignored') return 'ignored';
      // Another attempt got there first; carry on from what it recorded.
      if (applied === 'already') return this.process(eventId);
      if (applied.status === 'ignored') return 'ignored';
      effects = applied.effects;
    }
    for (const effect of effects) await this.notify(effect);
    if (effects.length) await this.deps.events.markProcessed(eventId);
    return 'processed';
  }

  /** Records that retries are exhausted. */
  async giveUp(eventId: string, error: unknown): Promise<void> {
    await this.deps.events.markFailed(eventId, error instanceof Error ? error.message : String(error));
  }

  /** Queues stored events that are still unsettled after `graceMs` (e.g. their enqueue failed). */
  async requeueUnsettled(graceMs: number, limit = 100): Promise<number> {
    let added = 0;
    for (const id of await this.deps.events.unsettled(graceMs, limit)) if (await this.deps.queue.ensure(id)) added++;
    return added;
  }

  private async apply(stored: StoredStripeEvent): Promise<'ignored' | 'already' | EventApplication> {
    const event = stored.payload;
    // Completed, expired or paid later: whatever else the event does, its session is no longer open.
    // Before the event is settled, so a crash in between cannot leave the session handed out.
    const sessionId = event.type.startsWith('checkout.session.') ? checkoutSessionId(event.data.object) : null;
    if (sessionId) await this.deps.checkouts.endCheckout(sessionId);
    const keys = stripeEventKeys(event);
    let reference: BillingReference | null = keys.reference ?? (await this.deps.events.locatePayer(keys));
    let fetched: { object: Record<string, unknown>; observedAt: number } | null = null;
    const toFetch = subscriptionToFetch(event, keys.subscriptionId, reference !== null);
    if (toFetch) {
      const observedAt = seconds(this.now());
      try {
        fetched = { object: await this.deps.gateway.retrieveSubscription(toFetch), observedAt };
      } catch (err) {
        // Retrying helps only when Stripe is unreachable; a subscription it does not know is no help.
        if (!(err instanceof PaymentProviderError) || err.retryable) throw err;
      }
      if (fetched && !reference) reference = metadataReference(fetched.object);
    }
    if (!reference) {
      await this.deps.events.markIgnored(stored.id, 'unknown_payer');
      return 'ignored';
    }
    const result = await this.deps.events.applyToPayer(stored.id, reference, (record) => this.applyTo(record, event, fetched, reference));
    if (result === 'unknown_payer') {
      await this.deps.events.markIgnored(stored.id, 'unknown_payer');
      return 'ignored';
    }
    return result;
  }

  /** Pure: the event (and a subscription fetched for it) applied to the payer's record. */
  private applyTo(
    record: SubscriptionRecord,
    event: StripeEventEnvelope,
    fetched: { object: Record<string, unknown>; observedAt: number } | null,
    reference: BillingReference,
  ): EventApplication {
    const first = applyStripeEvent(record, event);
    let next = first.record;
    let changed = first.changed;
    const raised = [...first.events];
    let outcome = first.changed ? 'changed' : (first.ignored ?? 'unchanged');
    if (fetched) {
      const refreshed = applySubscriptionObject(next, fetched.object, { observedAt: fetched.observedAt });
      if (refreshed.changed) {
        next = refreshed.record;
        changed = true;
        raised.push(...refreshed.events);
        outcome = first.changed ? 'changed' : 'changed_by_fetched_subscription';
      }
    }
    const effects: BillingEffect[] = raised.map((e) =>
      e.type === 'payment_failed' ? { ...e, priceId: next.subscriptions.find((s) => s.id === e.subscriptionId)?.snapshot?.priceId ?? null } : e,
    );
    return {
      record: next,
      changed,
      planId: reference.kind === 'creator' ? (planForPrice(this.deps.plans, next.view.priceId)?.id ?? null) : null,
      status: !changed ? 'ignored' : effects.length ? 'applied' : 'processed',
      outcome,
      effects,
    };
  }

  /** Tells the person an effect concerns; each call is keyed, so a retry sends nothing twice. */
  private async notify(effect: BillingEffect): Promise<void> {
    const reference = effect.reference;
    if (effect.type === 'contact_unlocked') {
      const { botId, contactId } = effect.reference;
      return this.deps.messenger.notify(botId, contactId, unlockedText(effect.mode), `contact-unlocked:${effect.checkoutSessionId}`);
    }
    // Contacts hear about their own payments from Stripe's receipts; only creators get our emails.
    if (reference?.kind !== 'creator') return;
    const creator = await this.deps.creators.findById(reference.creatorId);
    if (!creator) return;
    const free = freePlan(this.deps.plans);
    const planName = planForPrice(this.deps.plans, effect.priceId)?.name ?? 'paid';
    if (effect.type === 'payment_failed') {
      return this.deps.notifier.paymentFailed(
        creator.id,
        {
          name: creator.name,
          planName,
          amountDue: effect.amountDue !== null && effect.currency ? { amount: effect.amountDue, currency: effect.currency } : null,
          accessUntil: effect.currentPeriodEnd === null ? null : new Date(effect.currentPeriodEnd * 1000),
          nextAttempt: effect.nextPaymentAttempt === null ? null : new Date(effect.nextPaymentAttempt * 1000),
          updatePaymentUrl: effect.hostedInvoiceUrl ?? this.deps.urls.portalReturn,
          fallbackPlanName: free.name,
        },
        `payment-failed:${effect.invoiceId}:${effect.attemptCount}`,
      );
    }
    return this.deps.notifier.subscriptionEnded(
      creator.id,
      {
        name: creator.name,
        planName,
        endedAt: effect.endedAt === null ? this.now() : new Date(effect.endedAt * 1000),
        fallbackPlanName: free.name,
        fallbackLimits: describeLimits(free.limits),
        resubscribeUrl: this.deps.urls.portalReturn,
      },
      `subscription-ended:${effect.subscriptionId}`,
    );
  }
}

function metadataReference(subscription: Record<string, unknown>): BillingReference | null {
  try {
    return referenceFromMetadata(readSubscription(subscription).metadata);
  } catch (err) {
    if (err instanceof ZodError) return null;
    throw err;
  }
}

function checkoutSessionId(object: unknown): string | null {
  try {
    return readCheckoutSession(object).id;
  } catch (err) {
    if (err instanceof ZodError) return null;
    throw err;
  }
}
