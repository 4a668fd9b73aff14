-- Where a chunk sits in its source besides a page: a slide (decks) or a time in seconds (subtitles,
-- transcripts). Pages stay in `page`, so existing chunks need no rewrite: a chunk with a page and no
-- location_kind is located on that page.
ALTER TABLE public.chunks
  ADD COLUMN location_kind text CHECK (location_kind IN ('slide', 'time')),
  ADD COLUMN location_value double precision,
  ADD CONSTRAINT chunks_location_complete CHECK ((location_kind IS NULL) = (location_value IS NULL));
