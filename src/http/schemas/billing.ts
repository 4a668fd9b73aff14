import { z } from 'zod';
import { contactPremiumSchema } from '../../billing/entitlements.js';

const limit = z.number().int().nullable();

const planLimits = z
  .object({ bots: limit, documents: limit, storageBytes: limit, repliesPerMonth: limit, contacts: limit })
  .describe('What the plan allows; null means unlimited');

const plan = z.object({ id: z.string(), name: z.string(), limits: planLimits });

export const billingOverviewResponse = z.object({
  plan,
  status: z.string().describe("The subscription's status: none, active, trialing, past_due, canceled, …"),
  currentPeriodEnd: z.iso.datetime().nullable().describe('When the current billing period ends (renewal or end of access)'),
  cancelAtPeriodEnd: z.boolean(),
  usage: z.object({
    periodStart: z.iso.datetime().describe('Replies are counted from here …'),
    periodEnd: z.iso.datetime().describe('… to here (exclusive)'),
    bots: z.number().int(),
    documents: z.number().int(),
    storageBytes: z.number().int(),
    repliesThisPeriod: z.number().int(),
    contacts: z.number().int(),
  }),
  plans: z.array(plan.extend({ purchasable: z.boolean().describe('Can be bought through POST /v1/billing/checkout') })),
  paymentsEnabled: z.boolean().describe('False when the installation has no Stripe keys: only the free plan exists'),
});

export const checkoutBody = z.object({ plan: z.string().trim().min(1).max(40).describe('Id of the plan to subscribe to') });

export const checkoutResponse = z.object({
  id: z.string().describe('Stripe Checkout Session id'),
  url: z.string().describe('Where to send the creator to pay'),
});

export const portalResponse = z.object({ url: z.string().describe('Stripe Billing Portal link (short-lived)') });

export const premiumParams = z.object({ botId: z.string() });

export const premiumBody = contactPremiumSchema;

export const premiumResponse = z.object({
  premium: contactPremiumSchema.nullable().describe('Null when every contact is answered within the creator’s plan, without a paywall'),
});

export const billingPageParams = z.object({ page: z.enum(['done', 'cancelled', 'return']) });

export const stripeWebhookAck = z.object({ received: z.literal(true), duplicate: z.boolean() });
