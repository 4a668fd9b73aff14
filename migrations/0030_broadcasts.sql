-- Broadcasts: one message a creator sends to a segment of a bot's contacts, now or at a set time.
-- Each recipient is a proactive send (`broadcast:<id>:<contactId>`), materialised in one
-- INSERT … SELECT when the broadcast is created, so a crash part-way through queueing the jobs
-- finds the same rows again and nobody gets the message twice. Totals are counted from those rows.
CREATE TABLE public.broadcasts (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  bot_id        uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  text          text NOT NULL,
  segment_type  text NOT NULL CHECK (segment_type IN ('all', 'program', 'habit', 'channel')),
  segment_value text,
  send_at       timestamptz NOT NULL,
  cancelled_at  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX broadcasts_bot_idx ON public.broadcasts (bot_id, created_at DESC, id DESC);

ALTER TABLE public.proactive_sends DROP CONSTRAINT proactive_sends_kind_check;
ALTER TABLE public.proactive_sends ADD CONSTRAINT proactive_sends_kind_check CHECK (kind IN ('reminder', 'program_step', 'broadcast'));
ALTER TABLE public.proactive_sends ADD COLUMN broadcast_id uuid REFERENCES public.broadcasts (id) ON DELETE CASCADE;
-- Per-recipient status pages and the totals.
CREATE INDEX proactive_sends_broadcast_idx ON public.proactive_sends (broadcast_id, status, id) WHERE broadcast_id IS NOT NULL;
