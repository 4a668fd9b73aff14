-- Contact tags: short labels a creator (or a deep link's payload) puts on a contact, and broadcasts
-- that choose their recipients when they start sending rather than when they are created.

-- One row per tag of a contact. Tags are stored normalised (trimmed, lower case), so equality is the
-- case-insensitive match the API promises.
CREATE TABLE public.contact_tags (
  contact_id uuid NOT NULL REFERENCES public.contacts (id) ON DELETE CASCADE,
  bot_id     uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  tag        text NOT NULL CHECK (char_length(tag) BETWEEN 1 AND 64 AND tag = lower(btrim(tag))),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (contact_id, tag)
);
-- A tag segment's recipients and the contacts list filtered by tag: one index range per (bot, tag).
CREATE INDEX contact_tags_bot_tag_idx ON public.contact_tags (bot_id, tag, contact_id);

-- The contacts list, newest first, paged by (created_at, id).
CREATE INDEX contacts_bot_created_idx ON public.contacts (bot_id, created_at DESC, id DESC);

ALTER TABLE public.broadcasts DROP CONSTRAINT broadcasts_segment_type_check;
ALTER TABLE public.broadcasts ADD CONSTRAINT broadcasts_segment_type_check CHECK (segment_type IN ('all', 'program', 'habit', 'channel', 'tag'));

-- When the recipients were chosen (the segment read and one proactive send stored per contact): at
-- send time, so contacts who joined or were tagged after a scheduled broadcast was created receive it.
-- Broadcasts created before this migration chose theirs when they were created.
ALTER TABLE public.broadcasts ADD COLUMN started_at timestamptz;
UPDATE public.broadcasts SET started_at = created_at;
-- The reconciler's scan: scheduled broadcasts whose start job may have been lost.
CREATE INDEX broadcasts_unstarted_idx ON public.broadcasts (send_at) WHERE started_at IS NULL AND cancelled_at IS NULL;

-- Who stopped proactive messages: the user with /stop or STOP, or the channel on the user's behalf
-- (WhatsApp refused a send because the user stopped marketing messages, code 131050). Either way
-- nothing proactive is sent while opted_out_at is set, and /start or START clears both.
ALTER TABLE public.contact_coaching ADD COLUMN opted_out_by text CHECK (opted_out_by IN ('user', 'channel'));
UPDATE public.contact_coaching SET opted_out_by = 'user' WHERE opted_out_at IS NOT NULL;
