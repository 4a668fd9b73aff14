import { createHash } from 'node:crypto';
import { encodeClientReference, referenceMetadata } from './billing-reference.js';
import { PaymentProviderError } from './billing.errors.js';
import type { BillingService } from './billing.service.js';
import { canAddContact, contactUnlock, decideContactReply, usagePeriod, type ContactPremium } from './entitlements.js';
import type { BotPremiumStore, PayerRecordStore, PaymentGateway, TurnParties, UsageStore } from './ports.js';
import type { PastDuePolicy } from './subscription-state.js';

/** The turn being decided, as the conversation pipeline knows it. */
export interface GatedTurn {
  id: string;
  botId: string;
  conversationId: string;
}

/** Answer the turn with the coach, or send this message instead (and make no model call). */
export type GateDecision = { allow: true } | { allow: false; message: { text: string } };

export interface ReplyGateDeps {
  billing: Pick<BillingService, 'account' | 'urls'>;
  usage: UsageStore;
  premium: Pick<BotPremiumStore, 'find'>;
  records: Pick<PayerRecordStore, 'contactRecord'>;
  gateway: Pick<PaymentGateway, 'createCheckoutSession'>;
  pastDuePolicy?: PastDuePolicy;
  clock?: () => Date;
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

/**
 * Decides, before any model call, whether a turn is answered: the creator's plan must have room
 * for the contact and for one more reply this period, and a bot with premium answers a contact
 * past the free allowance only once they have paid (otherwise it sends them a Checkout link tied
 * to them). An allowed turn's reply is counted at once, exactly once per turn, so concurrent turns
 * can never exceed the plan.
 */
export class ReplyGateService {
  private readonly now: () => Date;

  constructor(private readonly deps: ReplyGateDeps) {
    this.now = deps.clock ?? (() => new Date());
  }

  async check(turn: GatedTurn): Promise<GateDecision> {
    const { usage } = this.deps;
    // A retry of a turn that was let through before stays let through: its reply is counted already.
    if (await usage.isCounted(turn.id)) return { allow: true };
    const parties = await usage.parties(turn.conversationId);
    if (!parties) return { allow: true };
    const account = await this.deps.billing.account(parties.creatorId);
    const { plan } = account;

    if (plan.limits.contacts !== null) {
      const before = await usage.contactsBefore(parties.creatorId, parties.contactId);
      if (!canAddContact(plan, { contacts: before }).allowed) return deny(contactLimitText);
    }

    const premium = await this.deps.premium.find(parties.botId);
    if (premium) {
      const paywall = await this.paywall(turn, parties, premium);
      if (paywall) return paywall;
    }

    const counted = await usage.countReply({ turnId: turn.id, parties, period: account.period, limit: plan.limits.repliesPerMonth });
    return counted.counted ? { allow: true } : deny(replyLimitText);
  }

  /** Marks the turn's counted reply as delivered (the contact's free allowance counts delivered replies). */
  async recordReply(turnId: string): Promise<void> {
    await this.deps.usage.markDelivered(turnId);
  }

  private async paywall(turn: GatedTurn, parties: TurnParties, premium: ContactPremium): Promise<GateDecision | null> {
    const now = this.now();
    const view = (await this.deps.records.contactRecord(parties.contactId))?.view ?? null;
    const unlock = contactUnlock(view, Math.floor(now.getTime() / 1000), this.deps.pastDuePolicy);
    // Contacts' allowances run by calendar month (UTC), whatever the creator's billing period.
    const month = usagePeriod(now);
    const used = await this.deps.usage.deliveredToContact(parties.botId, parties.contactId, month.start);
    const decision = decideContactReply(premium, used, unlock);
    if (decision.action === 'answer') return null;
    const reference = { kind: 'contact', botId: parties.botId, contactId: parties.contactId } as const;
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
          .update([parties.botId, parties.contactId, premium.stripePriceId, premium.mode, now.toISOString().slice(0, 10)].join('|'))
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
