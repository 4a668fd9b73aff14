-- BM25 for the full-text leg of retrieval. ts_rank knows nothing of how rare a word is across a
-- bot's material, so each bot's collection statistics are kept here, maintained by statement
-- triggers on chunks whichever path writes or removes them (ingestion's swap, document and bot
-- deletion through cascades): chunk count and total length per bot, and per term the number of
-- the bot's chunks that contain it. Statistics are per bot, like everything retrieval reads.

-- A chunk's length in tokens: positions per lexeme (stop words are not counted; a lexeme without
-- positions counts once). Immutable, so a stored column can use it.
CREATE FUNCTION public.tsvector_token_count(v tsvector) RETURNS integer
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT COALESCE(sum(COALESCE(array_length(positions, 1), 1)), 0)::integer FROM unnest(v) $$;

-- Recomputed from the same expression as tsv (a generated column cannot read another one).
ALTER TABLE public.chunks
  ADD COLUMN token_count integer GENERATED ALWAYS AS (public.tsvector_token_count(to_tsvector(ts_config, text))) STORED;

CREATE TABLE public.bot_text_stats (
  bot_id       uuid PRIMARY KEY REFERENCES public.bots (id) ON DELETE CASCADE,
  chunk_count  bigint NOT NULL DEFAULT 0,
  token_count  bigint NOT NULL DEFAULT 0
);

CREATE TABLE public.bot_term_frequencies (
  bot_id  uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  term    text NOT NULL,
  df      integer NOT NULL,
  PRIMARY KEY (bot_id, term)
);

INSERT INTO public.bot_text_stats (bot_id, chunk_count, token_count)
  SELECT bot_id, count(*), COALESCE(sum(token_count), 0) FROM public.chunks GROUP BY bot_id;
INSERT INTO public.bot_term_frequencies (bot_id, term, df)
  SELECT c.bot_id, t.lexeme, count(*) FROM public.chunks c, unnest(c.tsv) t GROUP BY c.bot_id, t.lexeme;

-- One aggregated pass per statement. The bot's statistics row is written first: it serialises
-- concurrent chunk writes of one bot before they reach its term rows (taken in term order), so they
-- cannot deadlock. Removal only updates: when a bot is deleted its chunks go by cascade and so may
-- its statistics rows, which must not come back. An update (none today) counts as both.
CREATE FUNCTION public.bot_text_stats_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE public.bot_text_stats s SET chunk_count = s.chunk_count - r.chunks, token_count = s.token_count - r.tokens
      FROM (SELECT bot_id, count(*) AS chunks, COALESCE(sum(token_count), 0) AS tokens FROM removed GROUP BY bot_id) r
     WHERE s.bot_id = r.bot_id;
    UPDATE public.bot_term_frequencies f SET df = f.df - r.df
      FROM (SELECT c.bot_id, t.lexeme, count(*) AS df FROM removed c, unnest(c.tsv) t GROUP BY c.bot_id, t.lexeme) r
     WHERE f.bot_id = r.bot_id AND f.term = r.lexeme;
    DELETE FROM public.bot_term_frequencies f
     USING (SELECT DISTINCT c.bot_id, t.lexeme FROM removed c, unnest(c.tsv) t) r
     WHERE f.bot_id = r.bot_id AND f.term = r.lexeme AND f.df <= 0;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO public.bot_text_stats AS s (bot_id, chunk_count, token_count)
      SELECT bot_id, count(*), COALESCE(sum(token_count), 0) FROM added GROUP BY bot_id ORDER BY bot_id
    ON CONFLICT (bot_id) DO UPDATE SET chunk_count = s.chunk_count + excluded.chunk_count, token_count = s.token_count + excluded.token_count;
    INSERT INTO public.bot_term_frequencies AS f (bot_id, term, df)
      SELECT a.bot_id, t.lexeme, count(*) FROM added a, unnest(a.tsv) t GROUP BY a.bot_id, t.lexeme ORDER BY a.bot_id, t.lexeme
    ON CONFLICT (bot_id, term) DO UPDATE SET df = f.df + excluded.df;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER chunks_text_stats_added AFTER INSERT ON public.chunks
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION public.bot_text_stats_apply();
CREATE TRIGGER chunks_text_stats_removed AFTER DELETE ON public.chunks
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION public.bot_text_stats_apply();
CREATE TRIGGER chunks_text_stats_changed AFTER UPDATE ON public.chunks
  REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION public.bot_text_stats_apply();
