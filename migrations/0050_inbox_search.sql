-- Inbox search reads one row per conversation instead of every matching message of the bot: the
-- distinct words (no positions) of everything said in it, kept up to date by triggers as messages
-- are stored or a reply's text is written, whichever path writes them.
ALTER TABLE public.conversations ADD COLUMN search_words tsvector NOT NULL DEFAULT ''::tsvector;

UPDATE public.conversations c SET search_words = strip(
  to_tsvector('simple', COALESCE((SELECT string_agg(i.text, ' ') FROM public.inbound_messages i WHERE i.conversation_id = c.id), '')) ||
  to_tsvector('simple', COALESCE((SELECT string_agg(o.text, ' ') FROM public.outbound_messages o WHERE o.conversation_id = c.id), '')));

CREATE INDEX conversations_search_idx ON public.conversations USING gin (search_words);

-- One aggregated update per statement: a batch of webhook messages, or a bulk load, touches each
-- conversation once.
CREATE FUNCTION public.conversation_words_from_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE public.conversations c SET search_words = strip(c.search_words || w.words)
    FROM (SELECT conversation_id, to_tsvector('simple', string_agg(text, ' ')) AS words
            FROM added WHERE text IS NOT NULL AND text <> '' GROUP BY conversation_id) w
   WHERE c.id = w.conversation_id;
  RETURN NULL;
END $$;

CREATE TRIGGER inbound_messages_search_words AFTER INSERT ON public.inbound_messages
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION public.conversation_words_from_added();

-- A reply's text is written after its ledger row exists (when it is final), sometimes at insert.
CREATE FUNCTION public.conversation_words_from_outbound_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE public.conversations c SET search_words = strip(c.search_words || w.words)
    FROM (SELECT n.conversation_id, to_tsvector('simple', string_agg(n.text, ' ')) AS words
            FROM changed n JOIN previous p ON p.id = n.id
           WHERE n.text IS NOT NULL AND n.text <> '' AND n.text IS DISTINCT FROM p.text
           GROUP BY n.conversation_id) w
   WHERE c.id = w.conversation_id;
  RETURN NULL;
END $$;

CREATE TRIGGER outbound_messages_search_words AFTER INSERT ON public.outbound_messages
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION public.conversation_words_from_added();
CREATE TRIGGER outbound_messages_search_words_update AFTER UPDATE ON public.outbound_messages
  REFERENCING OLD TABLE AS previous NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION public.conversation_words_from_outbound_update();
