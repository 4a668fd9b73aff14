import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { BillingOverview, BillingService } from '../../billing/billing.service.js';
import type { PremiumService } from '../../billing/premium.service.js';
import {
  billingOverviewResponse,
  billingPageParams,
  checkoutBody,
  checkoutResponse,
  portalResponse,
  premiumBody,
  premiumParams,
  premiumResponse,
} from '../schemas/billing.js';

export interface BillingRoutesOptions {
  billing: BillingService;
  premium: PremiumService;
}

function toOverviewResponse(o: BillingOverview) {
  const plan = (p: BillingOverview['plan']) => ({ id: p.id, name: p.name, limits: p.limits });
  return {
    plan: plan(o.plan),
    status: o.status,
    currentPeriodEnd: o.currentPeriodEnd?.toISOString() ?? null,
    cancelAtPeriodEnd: o.cancelAtPeriodEnd,
    usage: {
      periodStart: o.usage.period.start.toISOString(),
      periodEnd: o.usage.period.end.toISOString(),
      bots: o.usage.bots,
      documents: o.usage.documents,
      storageBytes: o.usage.storageBytes,
      repliesThisPeriod: o.usage.repliesThisPeriod,
      contacts: o.usage.contacts,
    },
    plans: o.plans.map((p) => ({ ...plan(p), purchasable: p.purchasable })),
    paymentsEnabled: o.paymentsEnabled,
  };
}

/** The creator's plan (status, usage, Checkout and portal links) and their bots' end-user premium. */
export const billingRoutes: FastifyPluginAsyncZod<BillingRoutesOptions> = async (app, { billing, premium }) => {
  app.addHook('onRequest', app.authenticate);
  const common = { tags: ['billing'], security: [{ bearer: [] }] };

  app.get('/billing', { schema: { ...common, summary: 'Plan, subscription status, period end and usage', response: { 200: billingOverviewResponse } } }, async (request) =>
    toOverviewResponse(await billing.overview(request.creatorId)),
  );

  app.post(
    '/billing/checkout',
    { schema: { ...common, summary: 'Start a Stripe Checkout to subscribe to a plan', body: checkoutBody, response: { 200: checkoutResponse } } },
    async (request) => billing.startCheckout(request.creatorId, request.body.plan),
  );

  app.post('/billing/portal', { schema: { ...common, summary: 'A Stripe Billing Portal link', response: { 200: portalResponse } } }, async (request) =>
    billing.openPortal(request.creatorId),
  );

  const premiumCommon = { ...common, params: premiumParams };
  app.get(
    '/bots/:botId/premium',
    { schema: { ...premiumCommon, summary: 'The bot’s end-user premium (free replies a month, Stripe price)', response: { 200: premiumResponse } } },
    async (request) => ({ premium: await premium.get(request.creatorId, request.params.botId) }),
  );

  app.put(
    '/bots/:botId/premium',
    {
      schema: {
        ...premiumCommon,
        summary: 'Charge end users past a free allowance: contacts get a Checkout link, and are unlocked once they pay',
        body: premiumBody,
        response: { 200: premiumResponse },
      },
    },
    async (request) => ({ premium: await premium.set(request.creatorId, request.params.botId, request.body) }),
  );

  app.delete(
    '/bots/:botId/premium',
    { schema: { ...premiumCommon, summary: 'Switch end-user premium off', response: { 204: z.null().describe('Switched off') } } },
    async (request, reply) => {
      await premium.remove(request.creatorId, request.params.botId);
      return reply.status(204).send(null);
    },
  );
};

const pages: Record<z.infer<typeof billingPageParams>['page'], { title: string; text: string }> = {
  done: { title: 'Payment received', text: 'Thank you! Your payment went through; it takes effect within moments. You can close this page.' },
  cancelled: { title: 'Checkout cancelled', text: 'Nothing was charged. You can close this page.' },
  return: { title: 'Billing', text: 'Your billing settings are saved. You can close this page.' },
};

/** Where Stripe sends payers back to when no own pages are configured. Open: they show no data. */
export const billingPageRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/billing/:page', { schema: { hide: true, params: billingPageParams } }, async (request, reply) => {
    const page = pages[request.params.page];
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', "default-src 'none'; frame-ancestors 'none'")
      .header('x-content-type-options', 'nosniff')
      .send(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${page.title}</title></head><body><h1>${page.title}</h1><p>${page.text}</p></body></html>`,
      );
  });
};
