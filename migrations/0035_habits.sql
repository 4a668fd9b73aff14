-- Habits: a creator's daily (or weekly-target) practice that subscribed contacts are asked about at
-- their own local time, and the check-ins they answer with, one per subscription and local day.
CREATE TABLE public.habits (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  bot_id         uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  name           text NOT NULL,
  -- "HH:MM", read in each contact's zone
  local_time     text NOT NULL,
  -- ISO weekdays (1 = Monday … 7 = Sunday) it is asked on; empty: every day
  days_of_week   smallint[] NOT NULL DEFAULT '{}',
  -- a weekly target (days done per ISO week) instead of every asked day
  times_per_week smallint,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX habits_bot_idx ON public.habits (bot_id, created_at);

CREATE TABLE public.habit_subscriptions (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  habit_id        uuid NOT NULL REFERENCES public.habits (id) ON DELETE CASCADE,
  bot_id          uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  contact_id      uuid NOT NULL REFERENCES public.contacts (id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL REFERENCES public.conversations (id) ON DELETE CASCADE,
  -- paused: the contact could not be reached (opted out, blocked, forgotten); joining again resumes it
  status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'stopped')),
  -- the contact's local date when they joined: days before it are not due
  started_on      date NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (habit_id, contact_id)
);
CREATE INDEX habit_subscriptions_contact_idx ON public.habit_subscriptions (contact_id, status);

CREATE TABLE public.habit_checkins (
  subscription_id uuid NOT NULL REFERENCES public.habit_subscriptions (id) ON DELETE CASCADE,
  -- the contact's local date the check-in is for (the day asked, or today in their zone)
  local_date      date NOT NULL,
  status          text NOT NULL CHECK (status IN ('done', 'skipped')),
  source          text NOT NULL CHECK (source IN ('button', 'text', 'api')),
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (subscription_id, local_date)
);

ALTER TABLE public.proactive_sends DROP CONSTRAINT proactive_sends_kind_check;
ALTER TABLE public.proactive_sends ADD CONSTRAINT proactive_sends_kind_check CHECK (kind IN ('reminder', 'program_step', 'broadcast', 'habit_ask'));
