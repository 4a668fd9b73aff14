-- Creator analytics of habits and programs: check-ins by bot and local date, habit asks by the local
-- date they ask about, program steps by when they went out, enrollments by when they started and
-- ended; and a version on kept analytics days, so days kept before a figure existed are computed again.

-- Check-ins carry their bot, so a bot's days are one index range (not one probe per subscription).
ALTER TABLE public.habit_checkins ADD COLUMN bot_id uuid REFERENCES public.bots (id) ON DELETE CASCADE;
UPDATE public.habit_checkins c SET bot_id = s.bot_id FROM public.habit_subscriptions s WHERE s.id = c.subscription_id;
ALTER TABLE public.habit_checkins ALTER COLUMN bot_id SET NOT NULL;
CREATE INDEX habit_checkins_bot_day_idx ON public.habit_checkins (bot_id, local_date) INCLUDE (subscription_id, status);

-- A bot's subscriptions with their habit and contact, read whole in one pass.
CREATE INDEX habit_subscriptions_bot_idx ON public.habit_subscriptions (bot_id) INCLUDE (habit_id, contact_id);

-- Asks by the contact's local date they ask about: the last ten characters of `habit:<id>:<YYYY-MM-DD>`.
CREATE INDEX proactive_sends_habit_day_idx ON public.proactive_sends (bot_id, right(effect_key, 10)) INCLUDE (status, contact_id, effect_key)
  WHERE kind = 'habit_ask';
-- Program steps by when they settled (went out, or were skipped or failed).
CREATE INDEX proactive_sends_program_settled_idx ON public.proactive_sends (bot_id, settled_at) INCLUDE (status)
  WHERE kind = 'program_step' AND settled_at IS NOT NULL;

-- Enrollments by when they started, and the ended ones by when they ended (completed or left).
CREATE INDEX program_enrollments_bot_enrolled_idx ON public.program_enrollments (bot_id, enrolled_at) INCLUDE (program_id, status);
CREATE INDEX program_enrollments_bot_ended_idx ON public.program_enrollments (bot_id, updated_at) INCLUDE (program_id, status)
  WHERE status IN ('completed', 'left');

-- The figures' shape a kept day was computed with: a day kept by an older shape is computed again.
ALTER TABLE public.analytics_days ADD COLUMN version smallint NOT NULL DEFAULT 1;
