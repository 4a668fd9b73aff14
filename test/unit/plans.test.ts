import { describe, expect, it } from 'vitest';
import { InvalidPlansError, defaultPlans, findPlan, freePlan, parsePlans, planForPrice, purchasablePlans } from '../../src/billing/plans.js';

const custom = [
  { id: 'starter', name: 'Starter', limits: { bots: 1, documents: 5, storageBytes: 10_000_000, repliesPerMonth: 100, contacts: 25 } },
  { id: 'coach', name: 'Coach', stripePriceId: 'price_1Coach', limits: { bots: 3, documents: null, storageBytes: null, repliesPerMonth: 5000, contacts: null } },
];

describe('plans', () => {
  it('uses one free plan without limits when PLANS_JSON is unset or blank, needing no Stripe', () => {
    for (const input of [undefined, '', '   ']) {
      const plans = parsePlans(input);
      expect(plans.map((p) => p.id)).toEqual(defaultPlans.map((p) => p.id));
      expect(freePlan(plans).name).toBe('Free');
      expect(freePlan(plans).stripePriceId).toBeUndefined();
      expect(Object.values(freePlan(plans).limits).every((limit) => limit === null)).toBe(true);
    }
    // Self-hosters add their own Stripe prices; until then nothing is on sale.
    expect(purchasablePlans(parsePlans(undefined))).toEqual([]);
  });

  it('returns copies, so changing one list never changes the defaults', () => {
    const plans = parsePlans(undefined);
    plans[0]!.limits.bots = 99;
    expect(defaultPlans[0]!.limits.bots).toBeNull();
  });

  it('reads a configured plan list, with null meaning unlimited', () => {
    const plans = parsePlans(JSON.stringify(custom));
    expect(freePlan(plans).id).toBe('starter');
    expect(planForPrice(plans, 'price_1Coach')?.name).toBe('Coach');
    expect(planForPrice(plans, 'price_unknown')).toBeUndefined();
    expect(planForPrice(plans, null)).toBeUndefined();
    expect(findPlan(plans, 'coach')?.limits.documents).toBeNull();
    expect(purchasablePlans(plans).map((p) => p.id)).toEqual(['coach']);
  });

  it('names the setting and every problem when the JSON is broken', () => {
    expect(() => parsePlans('{not json', 'PLANS_JSON')).toThrow(/PLANS_JSON is not a valid plan list[\s\S]*not JSON/);
  });

  it('rejects a list whose first (free) plan has a price, duplicate ids, or shared prices', () => {
    const paidFirst = [{ ...custom[1], id: 'coach' }, { ...custom[0] }];
    const err = (() => {
      try {
        parsePlans(JSON.stringify(paidFirst));
      } catch (e) {
        return e as InvalidPlansError;
      }
      throw new Error('expected an error');
    })();
    expect(err).toBeInstanceOf(InvalidPlansError);
    expect(err.code).toBe('INVALID_PLANS');
    expect(err.issues.join('\n')).toMatch(/first plan is the free plan/);

    const duplicate = [custom[0], { ...custom[1], id: 'starter' }];
    expect(() => parsePlans(JSON.stringify(duplicate))).toThrow(/duplicate plan id "starter"/);

    const sharedPrice = [custom[0], custom[1], { ...custom[1], id: 'coach-2' }];
    expect(() => parsePlans(JSON.stringify(sharedPrice))).toThrow(/price price_1Coach is used by two plans/);
  });

  it('rejects negative or fractional limits, a missing limit, a non-price id, and an empty list', () => {
    const bad = (patch: Record<string, unknown>) => JSON.stringify([{ ...custom[0], limits: { ...custom[0]!.limits, ...patch } }]);
    expect(() => parsePlans(bad({ bots: -1 }))).toThrow(/\[0\.limits\.bots\]/);
    expect(() => parsePlans(bad({ documents: 1.5 }))).toThrow(/\[0\.limits\.documents\]/);
    expect(() => parsePlans(JSON.stringify([{ ...custom[0], limits: { bots: 1 } }]))).toThrow(/\[0\.limits\.documents\]/);
    expect(() => parsePlans(JSON.stringify([custom[0], { ...custom[1], stripePriceId: 'prod_123' }]))).toThrow(/must be a Stripe price id/);
    expect(() => parsePlans('[]')).toThrow(/needs at least one plan/);
  });
});
