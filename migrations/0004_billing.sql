-- Billing: Stripe webhook events, what each payer (a creator, or one contact of a bot) has paid
-- for, reply usage against plan quotas, and end-user premium per bot.

-- Every verified Stripe event, stored by its id before the webhook is acknowledged: a redelivery
-- is a no-op. The worker applies it and records the outcome here in the same transaction as the
-- payer's record, so a retried job never applies an event twice.
CREATE TABLE public.stripe_events (
  id           text PRIMARY KEY,
  type         text NOT NULL,
  api_version  text,
  -- the event's own `created` (Stripe's clock), not when it reached us
  created_at   timestamptz NOT NULL,
  payload      jsonb NOT NULL,
  -- pending: stored, not applied yet; applied: record updated, notifications still to send;
  -- processed / ignored: settled; failed: retries exhausted (see error)
  status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'applied', 'processed', 'ignored', 'failed')),
  outcome      text,
  -- notifications the event raised (payment failed, subscription ended, contact unlocked), sent
  -- after the record is committed, each under its own dedupe key
  effects      jsonb NOT NULL DEFAULT '[]'::jsonb,
  error        text,
  attempts     integer NOT NULL DEFAULT 0,
  received_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  processed_at timestamptz
);
CREATE INDEX stripe_events_unsettled_idx ON public.stripe_events (received_at) WHERE status IN ('pending', 'applied');

-- A creator's platform subscription. `record` holds the register of every Stripe object seen for
-- this payer, each with the object's own timestamps (event `created`, period start, status), so
-- late and reordered events are judged by Stripe's clock rather than arrival order; the columns
-- beside it are the view derived from it, for reading and for finding the record.
CREATE TABLE public.creator_subscriptions (
  creator_id             uuid PRIMARY KEY REFERENCES public.creators (id) ON DELETE CASCADE,
  stripe_customer_id     text,
  stripe_subscription_id text,
  price_id               text,
  -- the configured plan selling price_id when the record was last written (reads resolve the price again)
  plan_id                text,
  status                 text NOT NULL DEFAULT 'none',
  current_period_start   timestamptz,
  current_period_end     timestamptz,
  cancel_at_period_end   boolean NOT NULL DEFAULT false,
  ended_at               timestamptz,
  -- every Stripe subscription and customer id the record mentions, to find it from any event
  subscription_ids       text[] NOT NULL DEFAULT '{}',
  customer_ids           text[] NOT NULL DEFAULT '{}',
  record                 jsonb NOT NULL,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX creator_subscriptions_subscriptions_idx ON public.creator_subscriptions USING gin (subscription_ids);
CREATE INDEX creator_subscriptions_customers_idx ON public.creator_subscriptions USING gin (customer_ids);

-- End-user premium of a bot: past the free allowance a contact is offered a Stripe Checkout.
CREATE TABLE public.bot_premium (
  bot_id                 uuid PRIMARY KEY REFERENCES public.bots (id) ON DELETE CASCADE,
  free_replies_per_month integer NOT NULL CHECK (free_replies_per_month >= 0),
  stripe_price_id        text NOT NULL,
  mode                   text NOT NULL CHECK (mode IN ('payment', 'subscription')),
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now()
);

-- What one contact of a bot has paid for: the same record and view as a creator's subscription,
-- plus the first one-time purchase (a lifetime unlock).
CREATE TABLE public.contact_unlocks (
  contact_id             uuid PRIMARY KEY REFERENCES public.contacts (id) ON DELETE CASCADE,
  bot_id                 uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  stripe_customer_id     text,
  stripe_subscription_id text,
  price_id               text,
  status                 text NOT NULL DEFAULT 'none',
  current_period_start   timestamptz,
  current_period_end     timestamptz,
  cancel_at_period_end   boolean NOT NULL DEFAULT false,
  ended_at               timestamptz,
  paid_once_at           timestamptz,
  subscription_ids       text[] NOT NULL DEFAULT '{}',
  customer_ids           text[] NOT NULL DEFAULT '{}',
  record                 jsonb NOT NULL,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contact_unlocks_bot_idx ON public.contact_unlocks (bot_id);
CREATE INDEX contact_unlocks_subscriptions_idx ON public.contact_unlocks USING gin (subscription_ids);
CREATE INDEX contact_unlocks_customers_idx ON public.contact_unlocks USING gin (customer_ids);

-- One row per turn answered within a creator's reply quota, keyed by the turn: a retried turn is
-- never counted twice. No foreign key to turns: forgetting a contact deletes their turns, and
-- that must not give the quota (or the contact's free allowance) back.
CREATE TABLE public.reply_usage (
  turn_id      uuid PRIMARY KEY,
  creator_id   uuid NOT NULL REFERENCES public.creators (id) ON DELETE CASCADE,
  bot_id       uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  contact_id   uuid REFERENCES public.contacts (id) ON DELETE CASCADE,
  -- the creator's usage period the reply counts in
  period_start timestamptz NOT NULL,
  -- set once the reply was delivered; a contact's free allowance counts delivered replies
  replied_at   timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reply_usage_contact_idx ON public.reply_usage (bot_id, contact_id, created_at);

-- Replies per creator and usage period. Incremented with INSERT … ON CONFLICT DO UPDATE … WHERE
-- replies < limit, so concurrent turns can never push it past the plan, and it stays exact.
CREATE TABLE public.usage_counters (
  creator_id   uuid NOT NULL REFERENCES public.creators (id) ON DELETE CASCADE,
  period_start timestamptz NOT NULL,
  period_end   timestamptz NOT NULL,
  replies      integer NOT NULL DEFAULT 0 CHECK (replies >= 0),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (creator_id, period_start)
);
