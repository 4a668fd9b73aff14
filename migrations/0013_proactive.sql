-- Proactive messages (program steps, reminders, later check-ins and broadcasts): what a contact agreed
-- to receive, and every message due to them, keyed by its effect so nothing is ever sent twice.

-- A contact's coaching preferences, kept apart from public.contacts on purpose: a proactive send
-- holds this row FOR SHARE while it talks to the channel, so an opt-out (which updates it) is stored
-- only once no send is in flight, and every send that starts later sees it. Inbound messages keep
-- updating public.contacts without ever waiting on a send.
CREATE TABLE public.contact_coaching (
  contact_id       uuid PRIMARY KEY REFERENCES public.contacts (id) ON DELETE CASCADE,
  bot_id           uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  -- IANA zone; null until known (guessed from the phone number, set by the user or the creator)
  time_zone        text,
  time_zone_source text CHECK (time_zone_source IN ('phone', 'user', 'api')),
  -- /stop or STOP: nothing proactive is sent while set; /start clears it
  opted_out_at     timestamptz,
  -- /forget: sends scheduled before this instant are skipped
  forgotten_at     timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contact_coaching_bot_idx ON public.contact_coaching (bot_id);

-- One row per proactive effect. The effect key (`reminder:<id>`, `program:<enrollmentId>:<step>`)
-- is unique here and is the outbound ledger row's dedupe_key once delivery starts, so a restart, a
-- duplicate job or a reconciler pass finds the same row and sends nothing twice.
-- Kept beside the ledger rather than in it: a send is known days before anything goes out (the
-- ledger holds what was sent), and one that is skipped (opted out, no template, web chat) must be
-- recorded with its reason without pretending a message was produced.
CREATE TABLE public.proactive_sends (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  bot_id          uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  contact_id      uuid NOT NULL REFERENCES public.contacts (id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL REFERENCES public.conversations (id) ON DELETE CASCADE,
  effect_key      text NOT NULL UNIQUE,
  kind            text NOT NULL CHECK (kind IN ('reminder', 'program_step')),
  -- the instant it is due, quiet hours already applied where the kind respects them
  due_at          timestamptz NOT NULL,
  -- the message for kinds fixed when scheduled (reminders); program steps are read at send time
  message         jsonb,
  status          text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'sent', 'skipped', 'failed', 'cancelled')),
  reason          text,
  outbound_id     uuid REFERENCES public.outbound_messages (id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  settled_at      timestamptz
);
-- The reconciler's scan: sends still to go, earliest first.
CREATE INDEX proactive_sends_due_idx ON public.proactive_sends (due_at) WHERE status = 'scheduled';
CREATE INDEX proactive_sends_contact_idx ON public.proactive_sends (contact_id, due_at DESC);
CREATE INDEX proactive_sends_bot_idx ON public.proactive_sends (bot_id, due_at DESC);

-- One-off reminders a contact asked for in chat.
CREATE TABLE public.reminders (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  bot_id          uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  contact_id      uuid NOT NULL REFERENCES public.contacts (id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL REFERENCES public.conversations (id) ON DELETE CASCADE,
  -- the turn that asked: a retried turn finds its reminder instead of creating a second one
  turn_id         uuid UNIQUE,
  what            text NOT NULL,
  due_at          timestamptz NOT NULL,
  time_zone       text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reminders_contact_idx ON public.reminders (contact_id, due_at);
