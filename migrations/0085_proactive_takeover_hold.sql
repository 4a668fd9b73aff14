-- A proactive send that came due while a person had its conversation waits, still scheduled, for
-- the release; held sends then go out earliest first.
ALTER TABLE public.proactive_sends ADD COLUMN held_at timestamptz;
CREATE INDEX proactive_sends_held_idx ON public.proactive_sends (conversation_id, due_at, id) WHERE status = 'scheduled' AND held_at IS NOT NULL;
