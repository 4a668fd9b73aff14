-- Human takeover: a creator answers a conversation themselves while the bot stays silent, and end
-- users can ask for a person.

-- taken_over_at: the conversation is the creator's (the bot answers nothing) since then; NULL when
-- the bot answers. takeover_active_at: the creator's last sign of life in it (the takeover or their
-- last message), from which an idle takeover is released. human_requested_at: the contact asked for
-- a person and no one has taken over since; human_request_turn_id: the turn that asked, so a retried
-- turn recognises its own request (and mails the creator once).
ALTER TABLE public.conversations
  ADD COLUMN taken_over_at timestamptz,
  ADD COLUMN taken_over_by uuid REFERENCES public.creators (id) ON DELETE SET NULL,
  ADD COLUMN takeover_active_at timestamptz,
  ADD COLUMN human_requested_at timestamptz,
  ADD COLUMN human_request_turn_id uuid;
CREATE INDEX conversations_taken_over_idx ON public.conversations (takeover_active_at) WHERE taken_over_at IS NOT NULL;
CREATE INDEX conversations_inbox_taken_over_idx ON public.conversations (bot_id, last_message_at DESC, id DESC) WHERE taken_over_at IS NOT NULL;
CREATE INDEX conversations_inbox_wants_human_idx ON public.conversations (bot_id, last_message_at DESC, id DESC) WHERE human_requested_at IS NOT NULL;

-- 'held': the turn's messages arrived while a person had the conversation; the bot stayed silent.
ALTER TABLE public.turns DROP CONSTRAINT turns_status_check;
ALTER TABLE public.turns ADD CONSTRAINT turns_status_check CHECK (status IN ('processing', 'answered', 'failed', 'held'));

-- What happened to the conversation besides messages, shown in its transcript.
CREATE TABLE public.conversation_events (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  bot_id          uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL REFERENCES public.conversations (id) ON DELETE CASCADE,
  kind            text NOT NULL CHECK (kind IN ('takeover', 'release', 'human_requested')),
  -- Who: the creator, the idle timer, or the contact.
  actor           text NOT NULL CHECK (actor IN ('creator', 'idle', 'contact')),
  -- The turn that asked for a person: a retried turn records its request once.
  turn_id         uuid UNIQUE,
  created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX conversation_events_timeline_idx ON public.conversation_events (conversation_id, created_at, id);

-- The creator's own messages are proactive sends of their own kind (sent now, retried by the worker).
ALTER TABLE public.proactive_sends DROP CONSTRAINT proactive_sends_kind_check;
ALTER TABLE public.proactive_sends ADD CONSTRAINT proactive_sends_kind_check CHECK (kind IN ('reminder', 'program_step', 'broadcast', 'habit_ask', 'creator_message'));
