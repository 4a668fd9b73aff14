import { describe, expect, it } from 'vitest';
import {
  PlanLimitError,
  assertAllowed,
  canAddContact,
  canAddDocument,
  canCreateBot,
  canSendReply,
  canStoreBytes,
  contactPremiumSchema,
  contactUnlock,
  currentPlan,
  decideContactReply,
  usagePeriod,
  type ContactPremium,
} from '../../src/billing/entitlements.js';
import { parsePlans, type Plan } from '../../src/billing/plans.js';
import { emptySubscriptionRecord, type SubscriptionView } from '../../src/billing/subscription-state.js';

const plans: Plan[] = parsePlans(
  JSON.stringify([
    { id: 'free', name: 'Free', limits: { bots: 1, documents: 20, storageBytes: 50 * 1024 * 1024, repliesPerMonth: 500, contacts: 100 } },
    { id: 'pro', name: 'Pro', stripePriceId: 'price_pro', limits: { bots: 5, documents: null, storageBytes: null, repliesPerMonth: null, contacts: null } },
  ]),
);
const free = plans[0]!;
const pro = plans[1]!;

const t = (iso: string) => Math.floor(Date.parse(iso) / 1000);

function view(patch: Partial<SubscriptionView>): SubscriptionView {
  return { ...emptySubscriptionRecord().view, ...patch };
}

describe('plan limits', () => {
  it('lets a Free creator make a first bot but not a second, and says why in words', () => {
    expect(canCreateBot(free, { bots: 0 })).toEqual({ allowed: true });
    expect(canCreateBot(free, { bots: 1 })).toEqual({
      allowed: false,
      code: 'PLAN_LIMIT_BOTS',
      message: 'Your Free plan allows 1 bot. Upgrade to create more.',
      limit: 1,
      used: 1,
    });
  });

  it('treats null limits as unlimited', () => {
    expect(canAddDocument(pro, { documents: 1_000_000 })).toEqual({ allowed: true });
    expect(canStoreBytes(pro, { storageBytes: 10 ** 12 }, 10 ** 9)).toEqual({ allowed: true });
    expect(canSendReply(pro, { repliesThisPeriod: 10 ** 7 })).toEqual({ allowed: true });
    expect(canAddContact(pro, { contacts: 10 ** 6 })).toEqual({ allowed: true });
  });

  it('stops documents, replies and contacts at the limit with their own codes', () => {
    expect(canAddDocument(free, { documents: 19 }).allowed).toBe(true);
    expect(canAddDocument(free, { documents: 20 })).toMatchObject({ code: 'PLAN_LIMIT_DOCUMENTS', message: 'Your Free plan allows 20 documents. Upgrade to add more.' });
    expect(canSendReply(free, { repliesThisPeriod: 499 }).allowed).toBe(true);
    expect(canSendReply(free, { repliesThisPeriod: 500 })).toMatchObject({ code: 'PLAN_LIMIT_REPLIES', limit: 500, used: 500 });
    expect(canAddContact(free, { contacts: 100 })).toMatchObject({ code: 'PLAN_LIMIT_CONTACTS', message: 'Your Free plan allows 100 contacts. Upgrade to reach more people.' });
  });

  it('checks an upload against the storage left, counting the upload itself', () => {
    const used = 48 * 1024 * 1024;
    expect(canStoreBytes(free, { storageBytes: used }, 2 * 1024 * 1024)).toEqual({ allowed: true });
    const refused = canStoreBytes(free, { storageBytes: used }, 3 * 1024 * 1024);
    expect(refused).toMatchObject({ allowed: false, code: 'PLAN_LIMIT_STORAGE', limit: 50 * 1024 * 1024, used });
    expect(refused.allowed || refused.message).toBe('Your Free plan allows 50 MB of storage and 48 MB is in use; this upload needs 3 MB. Delete documents or upgrade for more space.');
  });

  it('turns a refusal into a 402 error carrying the limit and usage', () => {
    expect(() => assertAllowed(canCreateBot(free, { bots: 0 }))).not.toThrow();
    const decision = canCreateBot(free, { bots: 1 });
    try {
      assertAllowed(decision);
      throw new Error('expected PlanLimitError');
    } catch (err) {
      expect(err).toBeInstanceOf(PlanLimitError);
      expect(err).toMatchObject({ code: 'PLAN_LIMIT_BOTS', status: 402, details: { limit: 1, used: 1 } });
    }
  });
});

describe('current plan', () => {
  const now = t('2024-05-10T00:00:00Z');
  const period = { currentPeriodStart: t('2024-05-01T00:00:00Z'), currentPeriodEnd: t('2024-06-01T00:00:00Z') };

  it('is the subscribed plan while the subscription is active, and Free without one', () => {
    expect(currentPlan(plans, null, now).id).toBe('free');
    expect(currentPlan(plans, view({ status: 'active', priceId: 'price_pro', ...period }), now).id).toBe('pro');
    expect(currentPlan(plans, view({ status: 'trialing', priceId: 'price_pro', ...period }), now).id).toBe('pro');
  });

  it('keeps a past-due creator on their plan until the period ends, or per policy', () => {
    // The renewal due on May 1 failed; Stripe keeps retrying during the period it could not charge for.
    const pastDue = view({ status: 'past_due', priceId: 'price_pro', ...period });
    expect(currentPlan(plans, pastDue, now).id).toBe('pro');
    expect(currentPlan(plans, pastDue, t('2024-06-01T00:00:01Z')).id).toBe('free');
    expect(currentPlan(plans, pastDue, now, { mode: 'revoke' }).id).toBe('free');
    // Three days' grace after the failed payment fell due.
    expect(currentPlan(plans, pastDue, t('2024-05-03T23:00:00Z'), { mode: 'grace_days', days: 3 }).id).toBe('pro');
    expect(currentPlan(plans, pastDue, t('2024-05-04T00:00:00Z'), { mode: 'grace_days', days: 3 }).id).toBe('free');
  });

  it('falls back to Free when the subscription ended, is unpaid, or its price is no longer a plan', () => {
    expect(currentPlan(plans, view({ status: 'canceled', priceId: 'price_pro', ...period }), now).id).toBe('free');
    expect(currentPlan(plans, view({ status: 'unpaid', priceId: 'price_pro', ...period }), now).id).toBe('free');
    expect(currentPlan(plans, view({ status: 'active', priceId: 'price_retired', ...period }), now).id).toBe('free');
    // Set to cancel at period end, and the period is over: paid time is up even before Stripe's deletion arrives.
    expect(currentPlan(plans, view({ status: 'active', priceId: 'price_pro', cancelAtPeriodEnd: true, ...period }), t('2024-06-02T00:00:00Z')).id).toBe('free');
  });
});

describe('usage periods', () => {
  const d = (iso: string) => new Date(iso);

  it('is the calendar month in UTC without a subscription', () => {
    expect(usagePeriod(d('2024-02-29T23:59:59Z'))).toEqual({ start: d('2024-02-01T00:00:00Z'), end: d('2024-03-01T00:00:00Z') });
    expect(usagePeriod(d('2024-12-15T12:00:00Z'))).toEqual({ start: d('2024-12-01T00:00:00Z'), end: d('2025-01-01T00:00:00Z') });
  });

  it('is the subscription period when it is monthly and current', () => {
    const sub = { currentPeriodStart: d('2024-03-14T09:30:00Z'), currentPeriodEnd: d('2024-04-14T09:30:00Z') };
    expect(usagePeriod(d('2024-04-01T00:00:00Z'), sub)).toEqual({ start: sub.currentPeriodStart, end: sub.currentPeriodEnd });
  });

  it('counts monthly quotas in months anchored on a yearly subscription, clamping the 31st like Stripe', () => {
    const yearly = { currentPeriodStart: d('2024-01-31T08:00:00Z'), currentPeriodEnd: d('2025-01-31T08:00:00Z') };
    expect(usagePeriod(d('2024-02-15T00:00:00Z'), yearly)).toEqual({ start: d('2024-01-31T08:00:00Z'), end: d('2024-02-29T08:00:00Z') });
    expect(usagePeriod(d('2024-03-01T00:00:00Z'), yearly)).toEqual({ start: d('2024-02-29T08:00:00Z'), end: d('2024-03-31T08:00:00Z') });
    expect(usagePeriod(d('2024-12-31T08:00:00Z'), yearly)).toEqual({ start: d('2024-12-31T08:00:00Z'), end: d('2025-01-31T08:00:00Z') });
  });

  it('keeps rolling monthly when the renewal has not been recorded yet', () => {
    const stale = { currentPeriodStart: d('2024-03-10T00:00:00Z'), currentPeriodEnd: d('2024-04-10T00:00:00Z') };
    expect(usagePeriod(d('2024-04-12T00:00:00Z'), stale)).toEqual({ start: d('2024-04-10T00:00:00Z'), end: d('2024-05-10T00:00:00Z') });
  });
});

describe('end-user premium', () => {
  const premium: ContactPremium = { freeRepliesPerMonth: 3, stripePriceId: 'price_unlock', mode: 'payment' };
  const locked = { paidOnce: false, subscriptionActive: false };

  it('validates the premium settings a creator enters', () => {
    expect(contactPremiumSchema.parse(premium)).toEqual(premium);
    expect(contactPremiumSchema.safeParse({ ...premium, freeRepliesPerMonth: -1 }).success).toBe(false);
    expect(contactPremiumSchema.safeParse({ ...premium, stripePriceId: 'prod_1' }).success).toBe(false);
    expect(contactPremiumSchema.safeParse({ ...premium, mode: 'donation' }).success).toBe(false);
  });

  it('always answers on bots without premium', () => {
    expect(decideContactReply(null, 10_000, null)).toMatchObject({ action: 'answer', reason: 'no_premium' });
  });

  it('answers the free allowance, then shows the paywall with what to buy', () => {
    expect(decideContactReply(premium, 0, locked)).toEqual({ action: 'answer', reason: 'free_allowance', freeRepliesLeft: 2 });
    expect(decideContactReply(premium, 2, locked)).toEqual({ action: 'answer', reason: 'free_allowance', freeRepliesLeft: 0 });
    expect(decideContactReply(premium, 3, locked)).toEqual({
      action: 'paywall',
      reason: 'free_allowance_used',
      freeRepliesPerMonth: 3,
      used: 3,
      mode: 'payment',
      stripePriceId: 'price_unlock',
    });
  });

  it('answers an unlocked contact however much they used', () => {
    expect(decideContactReply(premium, 50, { paidOnce: true, subscriptionActive: false })).toMatchObject({ action: 'answer', reason: 'unlocked' });
    expect(decideContactReply({ ...premium, mode: 'subscription' }, 50, { paidOnce: false, subscriptionActive: true })).toMatchObject({ action: 'answer', reason: 'unlocked' });
  });

  it('reads the unlock from the contact subscription record: one-time purchase forever, subscription while it lasts', () => {
    const now = t('2024-05-10T00:00:00Z');
    expect(contactUnlock(null, now)).toEqual(locked);
    expect(contactUnlock(view({ paidOnceAt: t('2023-01-01T00:00:00Z') }), now)).toEqual({ paidOnce: true, subscriptionActive: false });
    const subscribed = view({ status: 'active', currentPeriodStart: t('2024-05-01T00:00:00Z'), currentPeriodEnd: t('2024-06-01T00:00:00Z') });
    expect(contactUnlock(subscribed, now)).toEqual({ paidOnce: false, subscriptionActive: true });
    expect(contactUnlock({ ...subscribed, status: 'canceled' }, now)).toEqual(locked);
  });
});
