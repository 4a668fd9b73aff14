import { createHash } from 'node:crypto';
import { PerBotCache } from '../cache/per-bot.cache.js';
import { encodeClientReference, referenceMetadata } from './billing-reference.js';
import { PaymentProviderError } from './billing.errors.js';
import type { BillingService } from './billing.service.js';
import { canAddContact, contactUnlock, decideContactReply, usagePeriod, type ContactPremium } from './entitlements.js';
import type { BotPremiumStore, PayerRecordStore, PaymentGateway, UsageStore } from './ports.js';
import type { PastDuePolicy, SubscriptionRecord, SubscriptionView } from './subscription-state.js';

/** The turn being decided, as the conversation pipeline knows it. */
export interface GatedTurn {
  id: string;
  botId: string;
  conversationId: string;
}

/** Answer the turn with the coach, or send this message instead (and make no model call). */
export type GateDecision = { allow: true } | { allow: false; message: { text: string } };

export interface ReplyGateDeps {
  billing: Pick<BillingService, 'accountFor' | 'urls'>;
  usage: Pick<UsageStore, 'creatorOf' | 'contactStanding' | 'claimReply' | 'markDelivered'>;
  premium: Pick<BotPremiumStore, 'find'>;
  records: Pick<PayerRecordStore, 'creatorRecord'>;
  gateway: Pick<PaymentGateway, 'createCheckoutSession'>;
  pastDuePolicy?: PastDuePolicy;
  clock?: () => Date;
  /** How long a creator's subscription and a bot's premium settings are kept between reads (default 5 s). */
  cacheTtlMs?: number;
  /** Told when a paywall link could not be made and the contact got an apology instead. */
  onDegraded?(what: string, error: unknown): void;
}

export const replyLimitText =
  'Sorry, this coach has used up its replies for this month, so I cannot answer right now. Please try again later.';
export const contactLimitText = 'Sorry, this coach cannot take on new conversations right now. Please try again later.';
export const premiumUnavailableText =
  "You've used this month's free replies with this coach, and upgrading is not available right now. Please try again later.";

/** The paywall message with the contact's own Checkout link. */
export function paywallText(premium: ContactPremium, url: string): string {
  const used = `You've used your ${premium.freeRepliesPerMonth === 1 ? 'free reply' : `${premium.freeRepliesPerMonth} free replies`} for this month.`;
  const offer = premium.mode === 'subscription' ? 'Subscribe to keep coaching going' : 'Unlock premium coaching to keep going';
  return `${used} ${offer}: ${url}\nI'll let you know here as soon as it's done.`;
}

/** Who pays for a bot's replies, and what its contacts pay for more. */
interface BotTerms {
  creatorId: string;
  premium: ContactPremium | null;
}

const CACHE_TTL_MS = 5_000;
// Turns let through on a bot with premium whose delivery is still to be recorded; a turn whose
// delivery never comes (it failed and is retried elsewhere) is forgotten past this many.
const MAX_AWAITING_DELIVERY = 10_000;

/**
 * Decides, before any model call, whether a turn is answered: the creator's plan must have room
 * for the contact and for one more reply this period, and a bot with premium answers a contact
 * past the free allowance only once they have paid (otherwise it sends them a Checkout link tied
 * to them). An allowed turn's reply is counted at once, exactly once per turn, so concurrent turns
 * can never exceed the plan.
 *
 * It runs for every turn, so it reads little: a creator's subscription and a bot's premium settings
 * are kept for `cacheTtlMs`. Changes made in this process (`subscriptionChanged`, `premiumChanged`)
 * apply to the next turn; changes made by another process (e.g. a Stripe event applied by a worker
 * elsewhere, premium set through another API process) apply within the TTL. A plan without a
 * contacts limit on a bot without premium then costs one statement per turn; otherwise one more.
 */
export class ReplyGateService {
  private readonly now: () => Date;
  private readonly bots: PerBotCache<BotTerms>;
  private readonly subscriptions: PerBotCache<{ view: SubscriptionView | null }>;
  private readonly awaitingDelivery = new Set<string>();

  constructor(private readonly deps: ReplyGateDeps) {
    this.now = deps.clock ?? (() => new Date());
    const ttlMs = deps.cacheTtlMs ?? CACHE_TTL_MS;
    this.bots = new PerBotCache(async (botId) => {
      const [creatorId, premium] = await Promise.all([deps.usage.creatorOf(botId), deps.premium.find(botId)]);
      return creatorId === null ? null : { creatorId, premium };
    }, { ttlMs });
    // A creator who never subscribed has no record: kept too (as a null view), or every turn would look.
    this.subscriptions = new PerBotCache(async (creatorId) => ({ view: (await deps.records.creatorRecord(creatorId))?.view ?? null }), { ttlMs });
  }

  async check(turn: GatedTurn): Promise<GateDecision> {
    const { usage } = this.deps;
    const terms = await this.bots.get(turn.botId);
    // The bot is gone; so is its conversation, and there is nothing to count.
    if (!terms) return { allow: true };
    const { creatorId, premium } = terms;
    const subscription = await this.subscriptions.get(creatorId);
    const account = this.deps.billing.accountFor(subscription?.view ?? null);
    const { plan } = account;
    const contactsLimited = plan.limits.contacts !== null;

    if (contactsLimited || premium) {
      const now = this.now();
      // Contacts' allowances run by calendar month (UTC), whatever the creator's billing period.
      const month = usagePeriod(now);
      const standing = await usage.contactStanding({
        turnId: turn.id,
        conversationId: turn.conversationId,
        botId: turn.botId,
        creatorId,
        contacts: contactsLimited,
        deliveredSince: premium ? month.start : null,
      });
      if (!standing) return { allow: true };
      // A retry of a turn that was let through before stays let through: its reply is counted already.
      if (standing.counted) return this.allowed(turn.id, premium);
      if (contactsLimited && !canAddContact(plan, { contacts: standing.contactsBefore ?? 0 }).allowed) return deny(contactLimitText);
      if (premium) {
        const paywall = await this.paywall(turn, standing.contactId, premium, standing.delivered ?? 0, standing.unlock ?? null, now);
        if (paywall) return paywall;
      }
    }

    const claim = await usage.claimReply({
      turnId: turn.id,
      conversationId: turn.conversationId,
      botId: turn.botId,
      creatorId,
      period: account.period,
      limit: plan.limits.repliesPerMonth,
    });
    return claim === 'limit_reached' ? deny(replyLimitText) : this.allowed(turn.id, premium);
  }

  /**
   * Records that the turn's counted reply was delivered. Only premium's free allowance reads it, so
   * it is written only for turns let through while their bot had premium: other turns cost nothing.
   */
  async recordReply(turnId: string): Promise<void> {
    if (this.awaitingDelivery.delete(turnId)) await this.deps.usage.markDelivered(turnId);
  }

  /** A creator's subscription record changed in this process: the next turn reads it again. */
  subscriptionChanged(creatorId: string): void {
    this.subscriptions.invalidate(creatorId);
  }

  /** A bot's premium settings changed in this process: the next turn reads them again. */
  premiumChanged(botId: string): void {
    this.bots.invalidate(botId);
  }

  private allowed(turnId: string, premium: ContactPremium | null): GateDecision {
    if (premium) {
      if (this.awaitingDelivery.size >= MAX_AWAITING_DELIVERY) this.awaitingDelivery.delete(this.awaitingDelivery.values().next().value as string);
      this.awaitingDelivery.add(turnId);
    }
    return { allow: true };
  }

  private async paywall(
    turn: GatedTurn,
    contactId: string,
    premium: ContactPremium,
    used: number,
    unlockRecord: SubscriptionRecord | null,
    now: Date,
  ): Promise<GateDecision | null> {
    const unlock = contactUnlock(unlockRecord?.view ?? null, Math.floor(now.getTime() / 1000), this.deps.pastDuePolicy);
    const decision = decideContactReply(premium, used, unlock);
    if (decision.action === 'answer') return null;
    const { botId } = turn;
    const reference = { kind: 'contact', botId, contactId } as const;
    try {
      const session = await this.deps.gateway.createCheckoutSession({
        mode: premium.mode,
        priceId: premium.stripePriceId,
        clientReferenceId: encodeClientReference(reference),
        metadata: referenceMetadata(reference),
        successUrl: this.deps.billing.urls.contactSuccess,
        cancelUrl: this.deps.billing.urls.contactCancel,
        // One link per contact, price and day: asking again the same day gives the same checkout.
        idempotencyKey: `unlock_${createHash('sha256')
          .update([botId, contactId, premium.stripePriceId, premium.mode, now.toISOString().slice(0, 10)].join('|'))
          .digest('hex')
          .slice(0, 40)}`,
      });
      return deny(paywallText(premium, session.url));
    } catch (err) {
      // Stripe down: the turn is retried later. Anything else (a wrong price id, payments not set up)
      // will not heal by retrying, so the contact hears why nothing more comes.
      if (err instanceof PaymentProviderError && err.retryable) throw err;
      this.deps.onDegraded?.(`paywall checkout for turn ${turn.id} failed`, err);
      return deny(premiumUnavailableText);
    }
  }
}

function deny(text: string): GateDecision {
  return { allow: false, message: { text } };
}
