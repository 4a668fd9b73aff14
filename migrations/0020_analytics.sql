-- Creator analytics: what a turn's answer was (covered by the material or not) and when the message
-- it answers arrived, indexes for per-bot time ranges, and the figures of days that are over.

-- Set when the final reply is saved: the bot said its "I don't know" (no passage cleared the gate).
ALTER TABLE public.turns ADD COLUMN uncovered boolean NOT NULL DEFAULT false;
-- The newest message the turn answers: reply latency runs from it to the reply being sent.
ALTER TABLE public.turns ADD COLUMN last_message_at timestamptz;

UPDATE public.turns t SET last_message_at = m.at
  FROM (SELECT turn_id, max(received_at) AS at FROM public.inbound_messages WHERE turn_id IS NOT NULL GROUP BY turn_id) m
 WHERE m.turn_id = t.id;
-- Set when a reply to a user's message is sent: from that message (the newest of its turn) to now.
ALTER TABLE public.outbound_messages ADD COLUMN reply_latency_ms bigint;

UPDATE public.outbound_messages o
   SET reply_latency_ms = greatest(0, round(extract(epoch FROM o.sent_at - COALESCE(t.last_message_at, t.created_at)) * 1000))::bigint
  FROM public.turns t
 WHERE t.id = o.turn_id AND t.kind = 'message' AND o.sent_at IS NOT NULL;

-- The group a user's question falls in: its words in lower case, runs of spaces and punctuation as one
-- space ("How do I start?!" and "how do i  start" are one question). Letters outside ASCII are kept.
CREATE FUNCTION public.question_key(texts text[]) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN btrim(regexp_replace(lower(left(array_to_string(texts, ' '), 500)), '[[:space:][:punct:]¿¡«»“”‘’…]+', ' ', 'g'));
ALTER TABLE public.turns ADD COLUMN question_key text GENERATED ALWAYS AS (public.question_key(texts)) STORED;

-- Per-bot time ranges, read without visiting the tables where the visibility map allows.
CREATE INDEX inbound_messages_bot_received_idx ON public.inbound_messages (bot_id, received_at) INCLUDE (conversation_id, contact_id, kind);
CREATE INDEX turns_bot_messages_idx ON public.turns (bot_id, created_at) INCLUDE (question_key, uncovered, status) WHERE kind = 'message';
CREATE INDEX outbound_messages_bot_sent_idx ON public.outbound_messages (bot_id, sent_at) INCLUDE (reply_latency_ms) WHERE sent_at IS NOT NULL;

-- A local day's figures in one time zone. Settled (the day is over, nothing in it under way): kept
-- for good, later requests read them instead of aggregating the day's rows again. Otherwise (today):
-- a snapshot that stands for a short while.
CREATE TABLE public.analytics_days (
  bot_id      uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  time_zone   text NOT NULL,
  day         date NOT NULL,
  figures     jsonb NOT NULL,
  settled     boolean NOT NULL,
  computed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (bot_id, time_zone, day)
);
