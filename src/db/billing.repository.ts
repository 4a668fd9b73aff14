import type pg from 'pg';
import type { BillingReference } from '../billing/billing-reference.js';
import type {
  BillingEffect,
  CheckoutStore,
  EventApplication,
  PayerRecordStore,
  StoredCheckout,
  StoredStripeEvent,
  StripeEventEnvelope,
  StripeEventStore,
} from '../billing/ports.js';
import { emptySubscriptionRecord, type SubscriptionRecord } from '../billing/subscription-state.js';
import { isUuid } from '../postgres/ids.js';
import { inTransaction } from '../postgres/transaction.js';

type Queryable = Pick<pg.PoolClient, 'query'>;

/** Every Stripe subscription and customer id a record mentions, so any later event finds it. */
function stripeIds(record: SubscriptionRecord): { subscriptionIds: string[]; customerIds: string[] } {
  const subscriptions = new Set<string>();
  const customers = new Set<string>();
  for (const entry of record.subscriptions) {
    subscriptions.add(entry.id);
    if (entry.snapshot?.customerId) customers.add(entry.snapshot.customerId);
    if (entry.invoice?.customerId) customers.add(entry.invoice.customerId);
  }
  for (const checkout of record.checkouts) {
    if (checkout.subscriptionId) subscriptions.add(checkout.subscriptionId);
    if (checkout.customerId) customers.add(checkout.customerId);
  }
  return { subscriptionIds: [...subscriptions].sort(), customerIds: [...customers].sort() };
}

/** The row of a payer's record, created empty for a payer that exists here; null for one that does not. */
async function lockPayerRecord(client: Queryable, reference: BillingReference): Promise<SubscriptionRecord | null> {
  const empty = JSON.stringify(emptySubscriptionRecord(reference));
  if (reference.kind === 'creator') {
    if (!isUuid(reference.creatorId)) return null;
    await client.query(
      `INSERT INTO public.creator_subscriptions (creator_id, record)
       SELECT id, $2::jsonb FROM public.creators WHERE id = $1
       ON CONFLICT (creator_id) DO NOTHING`,
      [reference.creatorId, empty],
    );
    const { rows } = await client.query<{ record: SubscriptionRecord }>(`SELECT record FROM public.creator_subscriptions WHERE creator_id = $1 FOR UPDATE`, [
      reference.creatorId,
    ]);
    return rows[0]?.record ?? null;
  }
  if (!isUuid(reference.botId) || !isUuid(reference.contactId)) return null;
  // The contact must belong to the bot the payment names.
  await client.query(
    `INSERT INTO public.contact_unlocks (contact_id, bot_id, record)
     SELECT id, bot_id, $3::jsonb FROM public.contacts WHERE id = $1 AND bot_id = $2
     ON CONFLICT (contact_id) DO NOTHING`,
    [reference.contactId, reference.botId, empty],
  );
  const { rows } = await client.query<{ record: SubscriptionRecord }>(
    `SELECT record FROM public.contact_unlocks WHERE contact_id = $1 AND bot_id = $2 FOR UPDATE`,
    [reference.contactId, reference.botId],
  );
  return rows[0]?.record ?? null;
}

async function savePayerRecord(client: Queryable, reference: BillingReference, record: SubscriptionRecord, planId: string | null): Promise<void> {
  const { view } = record;
  const { subscriptionIds, customerIds } = stripeIds(record);
  const common = [
    view.customerId,
    view.subscriptionId,
    view.priceId,
    view.status,
    view.currentPeriodStart,
    view.currentPeriodEnd,
    view.cancelAtPeriodEnd,
    view.endedAt,
    subscriptionIds,
    customerIds,
    JSON.stringify(record),
  ];
  const columns = `stripe_customer_id = $2, stripe_subscription_id = $3, price_id = $4, status = $5,
    current_period_start = to_timestamp($6), current_period_end = to_timestamp($7), cancel_at_period_end = $8,
    ended_at = to_timestamp($9), subscription_ids = $10, customer_ids = $11, record = $12::jsonb, updated_at = now()`;
  if (reference.kind === 'creator') {
    await client.query(`UPDATE public.creator_subscriptions SET ${columns}, plan_id = $13 WHERE creator_id = $1`, [reference.creatorId, ...common, planId]);
  } else {
    await client.query(`UPDATE public.contact_unlocks SET ${columns}, paid_once_at = to_timestamp($13) WHERE contact_id = $1`, [
      reference.contactId,
      ...common,
      view.paidOnceAt,
    ]);
  }
}

interface EventRow {
  id: string;
  type: string;
  status: StoredStripeEvent['status'];
  payload: StripeEventEnvelope;
  effects: BillingEffect[];
}

/**
 * Stripe events (`public.stripe_events`), the records of the payers they concern
 * (`public.creator_subscriptions`, `public.contact_unlocks`) and creators' last checkouts
 * (`public.creator_checkouts`). An event's outcome is saved in the same transaction as the record
 * it changed.
 */
export class BillingRepository implements StripeEventStore, PayerRecordStore, CheckoutStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly options: {
      /** Told once a payer's changed record is committed (e.g. to drop a cached copy). */
      onRecordChanged?: (reference: BillingReference) => void;
    } = {},
  ) {}

  async insert(event: StripeEventEnvelope): Promise<{ created: boolean }> {
    const { rowCount } = await this.pool.query(
      `INSERT INTO public.stripe_events (id, type, api_version, created_at, payload) VALUES ($1, $2, $3, to_timestamp($4), $5::jsonb)
       ON CONFLICT (id) DO NOTHING`,
      [event.id, event.type, event.api_version ?? null, event.created, JSON.stringify(event)],
    );
    return { created: rowCount === 1 };
  }

  async find(eventId: string): Promise<StoredStripeEvent | null> {
    const { rows } = await this.pool.query<EventRow>(`SELECT id, type, status, payload, effects FROM public.stripe_events WHERE id = $1`, [eventId]);
    return rows[0] ?? null;
  }

  async applyToPayer(
    eventId: string,
    reference: BillingReference,
    apply: (record: SubscriptionRecord) => EventApplication,
  ): Promise<'unknown_payer' | 'already' | EventApplication> {
    const outcome = await inTransaction(this.pool, async (client) => {
      // Event first, then record: every transaction takes its locks in this order.
      const { rows } = await client.query<{ status: string }>(`SELECT status FROM public.stripe_events WHERE id = $1 FOR UPDATE`, [eventId]);
      const status = rows[0]?.status;
      if (status === undefined || status === 'applied' || status === 'processed' || status === 'ignored') return 'already';
      const record = await lockPayerRecord(client, reference);
      if (!record) return 'unknown_payer';
      const result = apply(record);
      if (result.changed) await savePayerRecord(client, reference, result.record, result.planId);
      await client.query(
        `UPDATE public.stripe_events
            SET status = $2, outcome = $3, effects = $4::jsonb, attempts = attempts + 1, error = NULL,
                processed_at = CASE WHEN $2 IN ('processed', 'ignored') THEN clock_timestamp() END
          WHERE id = $1`,
        [eventId, result.status, result.outcome, JSON.stringify(result.effects)],
      );
      return result;
    });
    // Only once committed: told earlier, a cache could read the old record again and keep it.
    if (typeof outcome === 'object' && outcome.changed) this.options.onRecordChanged?.(reference);
    return outcome;
  }

  async locatePayer(keys: { subscriptionId: string | null; customerId: string | null }): Promise<BillingReference | null> {
    for (const [column, value] of [
      ['subscription_ids', keys.subscriptionId],
      ['customer_ids', keys.customerId],
    ] as const) {
      if (!value) continue;
      const { rows } = await this.pool.query<{ kind: 'creator' | 'contact'; id: string; bot_id: string | null }>(
        `SELECT 'creator' AS kind, creator_id::text AS id, NULL AS bot_id, updated_at FROM public.creator_subscriptions WHERE ${column} @> ARRAY[$1]::text[]
         UNION ALL
         SELECT 'contact', contact_id::text, bot_id::text, updated_at FROM public.contact_unlocks WHERE ${column} @> ARRAY[$1]::text[]
         ORDER BY updated_at DESC LIMIT 1`,
        [value],
      );
      const row = rows[0];
      if (row) return row.kind === 'creator' ? { kind: 'creator', creatorId: row.id } : { kind: 'contact', botId: row.bot_id!, contactId: row.id };
    }
    return null;
  }

  async markIgnored(eventId: string, outcome: string): Promise<void> {
    await this.pool.query(
      `UPDATE public.stripe_events SET status = 'ignored', outcome = $2, attempts = attempts + 1, error = NULL, processed_at = clock_timestamp()
        WHERE id = $1 AND status IN ('pending', 'failed')`,
      [eventId, outcome],
    );
  }

  async markProcessed(eventId: string): Promise<void> {
    await this.pool.query(
      `UPDATE public.stripe_events SET status = 'processed', error = NULL, processed_at = clock_timestamp() WHERE id = $1 AND status = 'applied'`,
      [eventId],
    );
  }

  async markFailed(eventId: string, error: string): Promise<void> {
    // An applied event keeps its status: its record is right, only notifications are late, and the
    // sweep tries them again.
    await this.pool.query(
      `UPDATE public.stripe_events SET status = CASE WHEN status = 'pending' THEN 'failed' ELSE status END, error = $2
        WHERE id = $1 AND status IN ('pending', 'applied')`,
      [eventId, error.slice(0, 2000)],
    );
  }

  async unsettled(olderThanMs: number, limit: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM public.stripe_events
        WHERE status IN ('pending', 'applied') AND received_at < clock_timestamp() - make_interval(secs => $1)
        ORDER BY received_at LIMIT $2`,
      [olderThanMs / 1000, limit],
    );
    return rows.map((r) => r.id);
  }

  async creatorRecord(creatorId: string): Promise<SubscriptionRecord | null> {
    if (!isUuid(creatorId)) return null;
    const { rows } = await this.pool.query<{ record: SubscriptionRecord }>(`SELECT record FROM public.creator_subscriptions WHERE creator_id = $1`, [creatorId]);
    return rows[0]?.record ?? null;
  }

  async lastCheckout(creatorId: string): Promise<StoredCheckout | null> {
    if (!isUuid(creatorId)) return null;
    const { rows } = await this.pool.query<{ session_id: string; url: string; plan_id: string; price_id: string; expires_at: Date; ended: boolean }>(
      `SELECT session_id, url, plan_id, price_id, expires_at, ended_at IS NOT NULL AS ended FROM public.creator_checkouts WHERE creator_id = $1`,
      [creatorId],
    );
    const row = rows[0];
    return row ? { sessionId: row.session_id, url: row.url, planId: row.plan_id, priceId: row.price_id, expiresAt: row.expires_at, ended: row.ended } : null;
  }

  async saveCheckout(creatorId: string, checkout: Omit<StoredCheckout, 'ended'>): Promise<void> {
    // Saving a session again (two clicks collapsed by the idempotency key) keeps it ended if Stripe
    // already said so; a different session starts open.
    await this.pool.query(
      `INSERT INTO public.creator_checkouts (creator_id, session_id, url, plan_id, price_id, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (creator_id) DO UPDATE SET
         session_id = EXCLUDED.session_id, url = EXCLUDED.url, plan_id = EXCLUDED.plan_id, price_id = EXCLUDED.price_id,
         expires_at = EXCLUDED.expires_at,
         created_at = CASE WHEN creator_checkouts.session_id = EXCLUDED.session_id THEN creator_checkouts.created_at ELSE now() END,
         ended_at = CASE WHEN creator_checkouts.session_id = EXCLUDED.session_id THEN creator_checkouts.ended_at END`,
      [creatorId, checkout.sessionId, checkout.url, checkout.planId, checkout.priceId, checkout.expiresAt],
    );
  }

  async endCheckout(sessionId: string): Promise<void> {
    await this.pool.query(`UPDATE public.creator_checkouts SET ended_at = clock_timestamp() WHERE session_id = $1 AND ended_at IS NULL`, [sessionId]);
  }
}
