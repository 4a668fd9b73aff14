-- Operator usage limits: a bot's model calls per minute, and the one "slow down" notice a contact
-- writing too fast gets per window.

-- One row per bot: the minute being counted and the calls taken in it (PostgreSQL's counter when
-- there is no Redis). ON CONFLICT DO UPDATE serialises concurrent turns of one bot on the row.
CREATE TABLE public.bot_model_calls (
  bot_id       uuid PRIMARY KEY REFERENCES public.bots (id) ON DELETE CASCADE,
  window_start timestamptz NOT NULL,
  calls        integer NOT NULL CHECK (calls >= 0)
);

-- The turn that told the conversation's contact to slow down, and when: one notice per window,
-- sent through that turn's own ledger row (so exactly once, whatever retries).
CREATE TABLE public.contact_slow_downs (
  conversation_id uuid PRIMARY KEY REFERENCES public.conversations (id) ON DELETE CASCADE,
  turn_id         uuid NOT NULL,
  notified_at     timestamptz NOT NULL
);
