-- Transactional email: the send queue (one row per email, keyed so it is sent at most once), the
-- development outbox, delivery feedback and suppressions, and single-use account tokens.

ALTER TABLE public.creators ADD COLUMN email_verified_at timestamptz;

-- Every email the platform decided to send. `dedupe_key` names the effect (e.g.
-- `password-reset:<token id>`, `weekly-digest:<creator>:<week>`): a second request with the same
-- key changes nothing. Bodies are dropped once the row is settled: they may carry single-use links.
CREATE TABLE public.email_messages (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  dedupe_key          text NOT NULL UNIQUE,
  creator_id          uuid REFERENCES public.creators (id) ON DELETE CASCADE,
  category            text NOT NULL,
  to_email            text NOT NULL,
  to_name             text,
  subject             text NOT NULL,
  text_body           text,
  html_body           text,
  unsubscribe_url     text,
  -- queued: waiting for the worker; sending: an attempt is under way; sent / suppressed / failed: settled
  status              text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'suppressed', 'failed')),
  attempts            integer NOT NULL DEFAULT 0,
  error               text,
  provider_message_id text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  settled_at          timestamptz
);
CREATE INDEX email_messages_creator_idx ON public.email_messages (creator_id, created_at);
-- The worker's safety net: rows still waiting (e.g. an enqueue lost after the insert committed).
CREATE INDEX email_messages_unsettled_idx ON public.email_messages (created_at) WHERE status IN ('queued', 'sending');
CREATE INDEX email_messages_provider_idx ON public.email_messages (provider_message_id) WHERE provider_message_id IS NOT NULL;

-- Without SENDGRID_API_KEY nothing leaves the machine: mail lands here (and in the log).
CREATE TABLE public.email_outbox (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  dedupe_key      text NOT NULL UNIQUE,
  creator_id      uuid REFERENCES public.creators (id) ON DELETE CASCADE,
  category        text NOT NULL,
  to_email        text NOT NULL,
  to_name         text,
  from_email      text NOT NULL,
  from_name       text,
  subject         text NOT NULL,
  text_body       text NOT NULL,
  html_body       text NOT NULL,
  unsubscribe_url text,
  created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX email_outbox_creator_idx ON public.email_outbox (creator_id, created_at);

-- Delivery and engagement events from the provider's signed webhook, once per provider event id.
CREATE TABLE public.email_events (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  provider_event_id   text UNIQUE,
  type                text NOT NULL,
  provider_type       text NOT NULL,
  email               text NOT NULL,
  dedupe_key          text,
  provider_message_id text,
  reason              text,
  occurred_at         timestamptz NOT NULL,
  received_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_events_email_idx ON public.email_events (email);

-- Addresses that must not get (some) mail: hard bounces, spam reports, unsubscribes. One row per
-- (address, reason); `categories` narrows group unsubscribes, NULL means every category the reason covers.
CREATE TABLE public.email_suppressions (
  email      text NOT NULL CHECK (email = lower(btrim(email))),
  reason     text NOT NULL CHECK (reason IN ('bounce', 'invalid', 'spamreport', 'unsubscribe', 'group_unsubscribe')),
  categories text[],
  since      timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (email, reason)
);

-- Email verification and password-reset links: only the SHA-256 of the token is stored; a token
-- works once (`used_at`) and until `expires_at`.
CREATE TABLE public.account_tokens (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  creator_id uuid NOT NULL REFERENCES public.creators (id) ON DELETE CASCADE,
  purpose    text NOT NULL CHECK (purpose IN ('verify-email', 'password-reset')),
  token_hash text NOT NULL UNIQUE,
  -- the address a verification token confirms (the creator's address when it was issued)
  email      text NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at    timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_tokens_creator_idx ON public.account_tokens (creator_id, purpose, created_at);

-- The weekly digest reads each bot's turns of one week.
CREATE INDEX turns_bot_created_idx ON public.turns (bot_id, created_at);
