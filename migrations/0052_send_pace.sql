-- The next free send slot per channel key (a Telegram bot, a WhatsApp number), shared by every
-- process sending through PostgreSQL without Redis. One small row per key, updated in place.
CREATE TABLE public.send_pace (
  key text PRIMARY KEY,
  next_at timestamptz NOT NULL
);
