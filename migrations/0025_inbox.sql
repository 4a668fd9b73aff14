-- The creators' inbox: conversations newest first by their last message, their transcripts paged
-- by time, and search over the words of their messages.

-- When the conversation's last message (the user's or the bot's) was stored: the inbox's order.
-- The repositories keep it in the statement that stores the message, always the message's own
-- timestamp (received_at, or the ledger row's created_at), so a page's place can be rebuilt.
ALTER TABLE public.conversations ADD COLUMN last_message_at timestamptz;
UPDATE public.conversations c SET last_message_at = GREATEST(
  c.created_at,
  (SELECT max(i.received_at) FROM public.inbound_messages i WHERE i.conversation_id = c.id),
  (SELECT max(o.created_at) FROM public.outbound_messages o WHERE o.conversation_id = c.id));
ALTER TABLE public.conversations ALTER COLUMN last_message_at SET DEFAULT now();
ALTER TABLE public.conversations ALTER COLUMN last_message_at SET NOT NULL;
CREATE INDEX conversations_inbox_idx ON public.conversations (bot_id, last_message_at DESC, id DESC);
CREATE INDEX conversations_inbox_channel_idx ON public.conversations (bot_id, channel, last_message_at DESC, id DESC);

-- A transcript's pages, newest first; messages stored by one statement share a time and keep their arrival order (seq).
CREATE INDEX inbound_messages_timeline_idx ON public.inbound_messages (conversation_id, received_at, seq);

-- Search over what users wrote and what the bot answered. 'simple': no stemming, the same for every language.
CREATE INDEX inbound_messages_search_idx ON public.inbound_messages USING gin (to_tsvector('simple', text));
CREATE INDEX outbound_messages_search_idx ON public.outbound_messages USING gin (to_tsvector('simple', text));
