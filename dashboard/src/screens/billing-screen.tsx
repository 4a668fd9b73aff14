import { useMutation, useQuery } from '@tanstack/react-query';
import { api } from '../api';
import { ErrorMessage, Loading, PageHeading, When } from '../ui';

type Limit = number | null;

interface Plan {
  id: string;
  name: string;
  limits: { bots: Limit; documents: Limit; storageBytes: Limit; repliesPerMonth: Limit; contacts: Limit };
}

interface Billing {
  plan: Plan;
  status: string;
  currentPeriodEnd: string | null;
  cancelAtPeriodEnd: boolean;
  usage: { periodStart: string; periodEnd: string; bots: number; documents: number; storageBytes: number; repliesThisPeriod: number; contacts: number };
  plans: Array<Plan & { purchasable: boolean }>;
  paymentsEnabled: boolean;
}

const statusWords: Record<string, string> = {
  none: 'Free plan, no subscription',
  active: 'Active',
  trialing: 'In its trial',
  past_due: 'Payment overdue: update your card in the billing portal',
  canceled: 'Cancelled',
  unpaid: 'Unpaid: update your card in the billing portal',
  incomplete: 'Waiting for the first payment',
};

function bytes(n: number): string {
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(1)} GB`;
}

function limitWords(limit: Limit, format: (n: number) => string = (n) => n.toLocaleString()): string {
  return limit === null ? 'unlimited' : format(limit);
}

/** The creator's plan, what they used of it this period, upgrading through Stripe Checkout and the billing portal. */
export function BillingScreen() {
  const billing = useQuery({ queryKey: ['billing'], queryFn: () => api<Billing>('/v1/billing') });
  // Stripe's pages are another site: the browser goes there and comes back to /billing/done or /billing/return.
  const checkout = useMutation({
    mutationFn: (plan: string) => api<{ url: string }>('/v1/billing/checkout', { method: 'POST', body: { plan } }),
    onSuccess: ({ url }) => window.location.assign(url),
  });
  const portal = useMutation({
    mutationFn: () => api<{ url: string }>('/v1/billing/portal', { method: 'POST' }),
    onSuccess: ({ url }) => window.location.assign(url),
  });
  return (
    <>
      <PageHeading title="Billing">Billing</PageHeading>
      {billing.isPending ? <Loading what="your plan" /> : null}
      <ErrorMessage error={billing.error} />
      {billing.data ? (
        <>
          <section aria-labelledby="plan-heading" className="panel">
            <h2 id="plan-heading">Your plan: {billing.data.plan.name}</h2>
            <p>{statusWords[billing.data.status] ?? billing.data.status}</p>
            {billing.data.currentPeriodEnd ? (
              <p>
                {billing.data.cancelAtPeriodEnd ? 'Ends on ' : 'Renews on '}
                <When at={billing.data.currentPeriodEnd} />.
              </p>
            ) : null}
            {billing.data.status !== 'none' && billing.data.paymentsEnabled ? (
              <button type="button" className="button secondary" disabled={portal.isPending} onClick={() => portal.mutate()}>
                {portal.isPending ? 'Opening…' : 'Manage payment and invoices'}
              </button>
            ) : null}
            <ErrorMessage error={portal.error} />
          </section>
          <section aria-labelledby="usage-heading" className="panel">
            <h2 id="usage-heading">Used this period</h2>
            <p className="muted">
              Replies counted from <When at={billing.data.usage.periodStart} /> to <When at={billing.data.usage.periodEnd} />.
            </p>
            <dl className="usage">
              <Usage label="Replies" used={billing.data.usage.repliesThisPeriod} limit={billing.data.plan.limits.repliesPerMonth} />
              <Usage label="Bots" used={billing.data.usage.bots} limit={billing.data.plan.limits.bots} />
              <Usage label="Documents" used={billing.data.usage.documents} limit={billing.data.plan.limits.documents} />
              <Usage label="Storage" used={billing.data.usage.storageBytes} limit={billing.data.plan.limits.storageBytes} format={bytes} />
              <Usage label="Contacts" used={billing.data.usage.contacts} limit={billing.data.plan.limits.contacts} />
            </dl>
          </section>
          <section aria-labelledby="plans-heading" className="panel">
            <h2 id="plans-heading">Plans</h2>
            {!billing.data.paymentsEnabled ? (
              <p className="notice">This installation takes no payments (it has no Stripe keys), so the free plan is the only one. Self-hosters set STRIPE_SECRET_KEY to sell plans.</p>
            ) : null}
            <ul className="cards plans">
              {billing.data.plans.map((plan) => (
                <li key={plan.id} className="card">
                  <h3>{plan.name}</h3>
                  <p className="muted">
                    {limitWords(plan.limits.repliesPerMonth)} replies a month · {limitWords(plan.limits.bots)} bots · {limitWords(plan.limits.documents)} documents ·{' '}
                    {limitWords(plan.limits.storageBytes, bytes)} storage
                  </p>
                  {plan.id === billing.data.plan.id ? (
                    <p>
                      <strong>Your plan</strong>
                    </p>
                  ) : plan.purchasable && billing.data.paymentsEnabled ? (
                    <button type="button" className="button small" disabled={checkout.isPending} onClick={() => checkout.mutate(plan.id)}>
                      Choose {plan.name}
                    </button>
                  ) : null}
                </li>
              ))}
            </ul>
            <ErrorMessage error={checkout.error} />
          </section>
        </>
      ) : null}
    </>
  );
}

function Usage({ label, used, limit, format = (n) => n.toLocaleString() }: { label: string; used: number; limit: Limit; format?: (n: number) => string }) {
  const share = limit ? Math.min(1, used / limit) : 0;
  return (
    <div className="usage-row">
      <dt>{label}</dt>
      <dd>
        {format(used)} of {limitWords(limit, format)}
        {limit !== null ? (
          <span className="meter" aria-hidden="true">
            <span style={{ width: `${Math.round(share * 100)}%` }} className={share >= 0.9 ? 'full' : ''} />
          </span>
        ) : null}
      </dd>
    </div>
  );
}
