import { z } from 'zod';
import { AppError } from '../errors/app.errors.js';

/** A quota: a non-negative whole number, or null for "unlimited". */
const limit = z.number().int().nonnegative().nullable();

/** What a plan allows; `null` means unlimited. */
export const planLimitsSchema = z.object({
  bots: limit,
  documents: limit,
  storageBytes: limit,
  repliesPerMonth: limit,
  contacts: limit,
});

export const planSchema = z.object({
  /** Stable key stored with a creator's subscription; never shown. */
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'must be lowercase letters, digits, - or _ (at most 40)'),
  /** Shown to creators, e.g. in "Your Free plan allows 1 bot". */
  name: z.string().trim().min(1).max(60),
  /** The Stripe Price creators subscribe to; without one the plan is free or not (yet) on sale. */
  stripePriceId: z.string().regex(/^price_[A-Za-z0-9_]+$/, 'must be a Stripe price id (price_…)').optional(),
  limits: planLimitsSchema,
});

export type PlanLimits = z.infer<typeof planLimitsSchema>;
export type Plan = z.infer<typeof planSchema>;
export type LimitName = keyof PlanLimits;

/**
 * A plan list: the first plan is the one every creator starts on (and falls back to when a
 * subscription ends), so it must be free. Ids and price ids are unique.
 */
export const planListSchema = z
  .array(planSchema)
  .min(1, 'needs at least one plan')
  .superRefine((plans, ctx) => {
    if (plans[0]?.stripePriceId) {
      ctx.addIssue({ code: 'custom', path: [0, 'stripePriceId'], message: 'the first plan is the free plan every creator starts on; it cannot have a price' });
    }
    const ids = new Set<string>();
    const prices = new Set<string>();
    plans.forEach((plan, index) => {
      if (ids.has(plan.id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `duplicate plan id "${plan.id}"` });
      ids.add(plan.id);
      if (plan.stripePriceId) {
        if (prices.has(plan.stripePriceId)) {
          ctx.addIssue({ code: 'custom', path: [index, 'stripePriceId'], message: `price ${plan.stripePriceId} is used by two plans` });
        }
        prices.add(plan.stripePriceId);
      }
    });
  });

/**
 * The plan list when none is configured: one free plan without limits, because whoever runs the
 * platform for their own coaching should not be held back by it. Operators who charge creators set
 * PLANS_JSON (README, "Billing", has an example with Free / Pro / Business tiers).
 */
export const defaultPlans: readonly Plan[] = Object.freeze([
  { id: 'free', name: 'Free', limits: { bots: null, documents: null, storageBytes: null, repliesPerMonth: null, contacts: null } },
]);

/** The plan configuration could not be read; the message names every problem. */
export class InvalidPlansError extends AppError {
  constructor(
    readonly source: string,
    readonly issues: string[],
  ) {
    super('INVALID_PLANS', 500, `${source} is not a valid plan list:\n  ${issues.join('\n  ')}`, { issues });
    this.name = 'InvalidPlansError';
  }
}

/**
 * Parses a plan list from JSON (e.g. the `PLANS_JSON` setting); unset or blank means the default
 * plans. Throws InvalidPlansError naming `source` and each problem.
 */
export function parsePlans(json: string | undefined, source = 'PLANS_JSON'): Plan[] {
  if (json === undefined || json.trim() === '') return defaultPlans.map((plan) => structuredClone(plan));
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new InvalidPlansError(source, [`not JSON: ${(err as Error).message}`]);
  }
  const result = planListSchema.safeParse(value);
  if (!result.success) {
    throw new InvalidPlansError(
      source,
      result.error.issues.map((issue) => `${issue.path.length ? `[${issue.path.join('.')}]` : '(list)'}: ${issue.message}`),
    );
  }
  return result.data;
}

/** The plan every creator starts on and returns to when a subscription ends. */
export function freePlan(plans: readonly Plan[]): Plan {
  const first = plans[0];
  if (!first) throw new InvalidPlansError('plans', ['needs at least one plan']);
  return first;
}

/** The plan sold under a Stripe price, if any. */
export function planForPrice(plans: readonly Plan[], priceId: string | null | undefined): Plan | undefined {
  if (!priceId) return undefined;
  return plans.find((plan) => plan.stripePriceId === priceId);
}

/** The plan with this id, if any. */
export function findPlan(plans: readonly Plan[], id: string): Plan | undefined {
  return plans.find((plan) => plan.id === id);
}

/** Plans a creator can buy now: those with a Stripe price. */
export function purchasablePlans(plans: readonly Plan[]): Plan[] {
  return plans.filter((plan) => plan.stripePriceId !== undefined);
}
