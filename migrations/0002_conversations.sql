-- End users, their conversations and the exactly-once message pipeline:
-- inbound rows (unique per bot, channel and external id) → turns → one outbound ledger row per turn.

CREATE TABLE public.contacts (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  bot_id            uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  channel           text NOT NULL CHECK (channel IN ('telegram', 'whatsapp', 'web')),
  external_id       text NOT NULL,
  display_name      text,
  username          text,
  language_code     text,
  deep_link_payload text,
  -- set when the user blocked the bot (403 or my_chat_member kicked); nothing is sent while set
  blocked_at        timestamptz,
  last_inbound_at   timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (bot_id, channel, external_id)
);

CREATE TABLE public.conversations (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  bot_id           uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  contact_id       uuid NOT NULL REFERENCES public.contacts (id) ON DELETE CASCADE,
  channel          text NOT NULL CHECK (channel IN ('telegram', 'whatsapp', 'web')),
  external_chat_id text NOT NULL,
  -- rolling memory summary and the memory-turn id it covers up to
  summary          text,
  summary_through  text,
  -- /reset: turns before this instant are not remembered
  memory_reset_at  timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (bot_id, channel, external_chat_id)
);
CREATE INDEX conversations_contact_idx ON public.conversations (contact_id);

CREATE TABLE public.turns (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  bot_id          uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL REFERENCES public.conversations (id) ON DELETE CASCADE,
  kind            text NOT NULL CHECK (kind IN ('message', 'command', 'callback', 'contact_status')),
  status          text NOT NULL DEFAULT 'processing' CHECK (status IN ('processing', 'answered', 'failed')),
  texts           text[] NOT NULL DEFAULT '{}',
  reply           text,
  sources         jsonb NOT NULL DEFAULT '[]'::jsonb,
  attempts        integer NOT NULL DEFAULT 0,
  error           text,
  created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  answered_at     timestamptz
);
CREATE INDEX turns_conversation_idx ON public.turns (conversation_id, created_at);
CREATE INDEX turns_unfinished_idx ON public.turns (conversation_id) WHERE status = 'processing';

CREATE TABLE public.inbound_messages (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- arrival order within the database; a burst is claimed in this order
  seq             bigint GENERATED ALWAYS AS IDENTITY,
  bot_id          uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  channel         text NOT NULL CHECK (channel IN ('telegram', 'whatsapp', 'web')),
  external_id     text NOT NULL,
  conversation_id uuid NOT NULL REFERENCES public.conversations (id) ON DELETE CASCADE,
  contact_id      uuid NOT NULL REFERENCES public.contacts (id) ON DELETE CASCADE,
  kind            text NOT NULL,
  text            text,
  -- the normalised InboundMessage
  payload         jsonb NOT NULL,
  received_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  turn_id         uuid REFERENCES public.turns (id) ON DELETE SET NULL,
  UNIQUE (bot_id, channel, external_id)
);
CREATE INDEX inbound_messages_conversation_idx ON public.inbound_messages (conversation_id, seq);
-- The reconciler's scan: rows not yet claimed into a turn, oldest first.
CREATE INDEX inbound_messages_unclaimed_idx ON public.inbound_messages (received_at) WHERE turn_id IS NULL;

CREATE TABLE public.outbound_messages (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  bot_id               uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  conversation_id      uuid NOT NULL REFERENCES public.conversations (id) ON DELETE CASCADE,
  -- the turn this reply answers: one reply per turn, whatever retries happen
  turn_id              uuid UNIQUE REFERENCES public.turns (id) ON DELETE CASCADE,
  -- for messages that answer no turn (reminders, notices): their own idempotency key
  dedupe_key           text UNIQUE,
  -- pending: being produced; sending: final delivery under way; sent / failed: settled
  status               text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
  text                 text,
  external_message_ids text[] NOT NULL DEFAULT '{}',
  error                text,
  attempts             integer NOT NULL DEFAULT 0,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  sent_at              timestamptz,
  CHECK (turn_id IS NOT NULL OR dedupe_key IS NOT NULL)
);
CREATE INDEX outbound_messages_conversation_idx ON public.outbound_messages (conversation_id, created_at);
