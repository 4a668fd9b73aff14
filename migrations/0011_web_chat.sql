-- The public web chat: a bot's publication (what its page shows and which sites may embed it),
-- the visitors' anonymous sessions, and the daily message counters behind the abuse limits.
CREATE TABLE public.web_chat_publications (
  bot_id          uuid PRIMARY KEY REFERENCES public.bots (id) ON DELETE CASCADE,
  allowed_origins text[] NOT NULL DEFAULT '{}',
  title           text,
  accent_color    text,
  welcome         text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Only a hash of the visitor's cookie is stored: a leaked table does not let anyone read a visitor's history.
CREATE TABLE public.web_visitor_sessions (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  bot_id       uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  token_hash   text NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX web_visitor_sessions_bot_idx ON public.web_visitor_sessions (bot_id);

-- One row per (UTC day, scope, key): scope is 'visitor', 'ip' (key: a hash of the address) or 'bot'.
CREATE TABLE public.web_chat_daily_counts (
  day   date NOT NULL,
  scope text NOT NULL CHECK (scope IN ('visitor', 'ip', 'bot')),
  key   text NOT NULL,
  count integer NOT NULL DEFAULT 0,
  PRIMARY KEY (day, scope, key)
);
