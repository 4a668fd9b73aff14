/**
 * Pure quota decisions: may this creator create a bot, add a document, store these bytes, send a
 * reply, take on a contact; and may this bot answer this contact for free or must it ask them to
 * pay. Callers count usage; these functions only decide and explain.
 */
import { z } from 'zod';
import { AppError } from '../errors/app.errors.js';
import { freePlan, planForPrice, type LimitName, type Plan } from './plans.js';
import { subscriptionAccess, type PastDuePolicy, type SubscriptionView } from './subscription-state.js';

export type LimitCode = 'PLAN_LIMIT_BOTS' | 'PLAN_LIMIT_DOCUMENTS' | 'PLAN_LIMIT_STORAGE' | 'PLAN_LIMIT_REPLIES' | 'PLAN_LIMIT_CONTACTS';

export type EntitlementDecision =
  | { allowed: true }
  | { allowed: false; code: LimitCode; message: string; limit: number; used: number };

const codes: Record<LimitName, LimitCode> = {
  bots: 'PLAN_LIMIT_BOTS',
  documents: 'PLAN_LIMIT_DOCUMENTS',
  storageBytes: 'PLAN_LIMIT_STORAGE',
  repliesPerMonth: 'PLAN_LIMIT_REPLIES',
  contacts: 'PLAN_LIMIT_CONTACTS',
};

function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** Bytes as people read them: 50 MB, 1.5 GB. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return plural(bytes, 'byte', 'bytes');
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}

function message(plan: Plan, name: LimitName, limit: number, used: number, adding: number): string {
  const on = `Your ${plan.name} plan`;
  switch (name) {
    case 'bots':
      return `${on} allows ${plural(limit, 'bot', 'bots')}. Upgrade to create more.`;
    case 'documents':
      return `${on} allows ${plural(limit, 'document', 'documents')}. Upgrade to add more.`;
    case 'storageBytes':
      return `${on} allows ${formatBytes(limit)} of storage and ${formatBytes(Math.min(used, limit))} is in use; this upload needs ${formatBytes(adding)}. Delete documents or upgrade for more space.`;
    case 'repliesPerMonth':
      return `${on} includes ${plural(limit, 'reply', 'replies')} a month and this month's are used up. Upgrade to keep your bots answering.`;
    case 'contacts':
      return `${on} allows ${plural(limit, 'contact', 'contacts')}. Upgrade to reach more people.`;
  }
}

/**
 * Whether `used + adding` stays within the plan's limit for `name` (null = unlimited). `adding`
 * defaults to 1 (one more bot, document, reply or contact).
 */
export function checkLimit(plan: Plan, name: LimitName, used: number, adding = 1): EntitlementDecision {
  const limit = plan.limits[name];
  if (limit === null || used + adding <= limit) return { allowed: true };
  return { allowed: false, code: codes[name], message: message(plan, name, limit, used, adding), limit, used };
}

/** May the creator create one more bot, owning `bots` now? */
export function canCreateBot(plan: Plan, usage: { bots: number }): EntitlementDecision {
  return checkLimit(plan, 'bots', usage.bots);
}

/** May the creator add one more document, having `documents` now (across all bots)? */
export function canAddDocument(plan: Plan, usage: { documents: number }): EntitlementDecision {
  return checkLimit(plan, 'documents', usage.documents);
}

/** May the creator store `incomingBytes` more, with `storageBytes` in use? */
export function canStoreBytes(plan: Plan, usage: { storageBytes: number }, incomingBytes: number): EntitlementDecision {
  return checkLimit(plan, 'storageBytes', usage.storageBytes, incomingBytes);
}

/** May the creator's bots send one more reply this usage period? */
export function canSendReply(plan: Plan, usage: { repliesThisPeriod: number }): EntitlementDecision {
  return checkLimit(plan, 'repliesPerMonth', usage.repliesThisPeriod);
}

/** May the creator's bots take on one more contact? */
export function canAddContact(plan: Plan, usage: { contacts: number }): EntitlementDecision {
  return checkLimit(plan, 'contacts', usage.contacts);
}

/** A plan limit stops the action; the HTTP layer answers 402 with the limit and usage. */
export class PlanLimitError extends AppError {
  constructor(decision: Extract<EntitlementDecision, { allowed: false }>) {
    super(decision.code, 402, decision.message, { limit: decision.limit, used: decision.used });
    this.name = 'PlanLimitError';
  }
}

/** Throws PlanLimitError unless the decision allows the action. */
export function assertAllowed(decision: EntitlementDecision): void {
  if (!decision.allowed) throw new PlanLimitError(decision);
}

/**
 * The plan a creator is on: the plan sold under their subscription's price while it grants access,
 * otherwise the free plan. `now` in Unix seconds.
 */
export function currentPlan(plans: readonly Plan[], view: SubscriptionView | null, now: number, policy?: PastDuePolicy): Plan {
  if (view && subscriptionAccess(view, now, policy).granted) return planForPrice(plans, view.priceId) ?? freePlan(plans);
  return freePlan(plans);
}

export interface UsagePeriod {
  start: Date;
  /** Exclusive. */
  end: Date;
}

function daysInMonthUTC(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

/** The `offset`-th monthly boundary after `anchor`, keeping its day of month (clamped, as Stripe does: 31 Jan → 28 Feb → 31 Mar). */
function monthlyBoundary(anchor: Date, offset: number): Date {
  const y = anchor.getUTCFullYear();
  const m = anchor.getUTCMonth() + offset;
  const year = y + Math.floor(m / 12);
  const month = ((m % 12) + 12) % 12;
  const day = Math.min(anchor.getUTCDate(), daysInMonthUTC(year, month));
  return new Date(Date.UTC(year, month, day, anchor.getUTCHours(), anchor.getUTCMinutes(), anchor.getUTCSeconds()));
}

const MAX_MONTHLY_PERIOD_MS = 31 * 86_400_000 + 3_600_000;

/**
 * The usage period containing `now`, over which monthly quotas (replies) are counted. With a
 * subscription period that contains `now` and is at most a month long, that period (so quotas
 * reset with each invoice); with a longer or stale period (yearly plans, a renewal not yet
 * recorded), months anchored on its start; without one, the calendar month in UTC.
 */
export function usagePeriod(now: Date, subscription?: { currentPeriodStart: Date; currentPeriodEnd: Date } | null): UsagePeriod {
  if (!subscription) {
    return {
      start: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)),
      end: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)),
    };
  }
  const { currentPeriodStart: start, currentPeriodEnd: end } = subscription;
  if (start <= now && now < end && end.getTime() - start.getTime() <= MAX_MONTHLY_PERIOD_MS) return { start, end };
  // Estimate the offset, then step to the exact boundary (month lengths vary).
  let k = (now.getUTCFullYear() - start.getUTCFullYear()) * 12 + now.getUTCMonth() - start.getUTCMonth();
  while (monthlyBoundary(start, k) > now) k--;
  while (monthlyBoundary(start, k + 1) <= now) k++;
  return { start: monthlyBoundary(start, k), end: monthlyBoundary(start, k + 1) };
}

/** A bot's paid tier for its end users, as creators set it in the bot's settings. */
export const contactPremiumSchema = z.object({
  /** Replies a contact gets each usage period before the paywall. */
  freeRepliesPerMonth: z.number().int().min(0).max(1_000_000),
  stripePriceId: z.string().regex(/^price_[A-Za-z0-9_]+$/, 'must be a Stripe price id (price_…)'),
  /** `payment`: one purchase unlocks for good; `subscription`: unlocked while subscribed. */
  mode: z.enum(['payment', 'subscription']),
});

export type ContactPremium = z.infer<typeof contactPremiumSchema>;

/** What a contact has paid for, as read from their subscription record. */
export interface ContactUnlock {
  /** A one-time purchase was made (any time). */
  paidOnce: boolean;
  /** Their subscription currently grants access. */
  subscriptionActive: boolean;
}

export type ContactReplyDecision =
  | { action: 'answer'; reason: 'no_premium' | 'unlocked' | 'free_allowance'; freeRepliesLeft: number | null }
  | { action: 'paywall'; reason: 'free_allowance_used'; freeRepliesPerMonth: number; used: number; mode: ContactPremium['mode']; stripePriceId: string };

/**
 * Whether a bot answers a contact or asks them to pay: bots without premium always answer; an
 * unlocked contact is answered; otherwise the free allowance for the period decides.
 * `repliesUsed` counts replies to this contact in the current usage period.
 */
export function decideContactReply(premium: ContactPremium | null | undefined, repliesUsed: number, unlock: ContactUnlock | null): ContactReplyDecision {
  if (!premium) return { action: 'answer', reason: 'no_premium', freeRepliesLeft: null };
  // A lifetime purchase stays honoured if the creator later switches the bot to subscriptions, and vice versa.
  if (unlock?.paidOnce || unlock?.subscriptionActive) return { action: 'answer', reason: 'unlocked', freeRepliesLeft: null };
  if (repliesUsed < premium.freeRepliesPerMonth) {
    return { action: 'answer', reason: 'free_allowance', freeRepliesLeft: premium.freeRepliesPerMonth - repliesUsed - 1 };
  }
  return {
    action: 'paywall',
    reason: 'free_allowance_used',
    freeRepliesPerMonth: premium.freeRepliesPerMonth,
    used: repliesUsed,
    mode: premium.mode,
    stripePriceId: premium.stripePriceId,
  };
}

/** What a contact has unlocked, from their subscription record's view at `now` (Unix seconds). */
export function contactUnlock(view: SubscriptionView | null, now: number, policy?: PastDuePolicy): ContactUnlock {
  if (!view) return { paidOnce: false, subscriptionActive: false };
  return { paidOnce: view.paidOnceAt !== null, subscriptionActive: subscriptionAccess(view, now, policy).granted };
}
