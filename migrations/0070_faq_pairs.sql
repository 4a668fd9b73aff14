-- Spreadsheet rows as chunk locations ("sheet Plans, row 12"): a row number in location_value and,
-- for workbooks, the sheet's name in location_section.
ALTER TABLE public.chunks DROP CONSTRAINT chunks_location_kind_check;
ALTER TABLE public.chunks
  ADD CONSTRAINT chunks_location_kind_check CHECK (location_kind IN ('slide', 'time', 'row')),
  ADD COLUMN location_section text;

-- A bot's FAQ pairs: the creator's own answers to questions users ask. Written by hand (no
-- document) or taken from an FAQ sheet, in which case they belong to that document: re-ingesting
-- it replaces them, deleting it removes them.
CREATE TABLE public.faq_pairs (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Insertion order: a sheet's pairs are listed in its row order, and pages continue after it.
  seq              bigint GENERATED ALWAYS AS IDENTITY,
  bot_id           uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  document_id      uuid REFERENCES public.documents (id) ON DELETE CASCADE,
  question         text NOT NULL CHECK (length(question) BETWEEN 1 AND 1000),
  answer           text NOT NULL CHECK (length(answer) BETWEEN 1 AND 4000),
  -- The text-search configuration of the bot's language when written, as chunks keep theirs.
  ts_config        regconfig NOT NULL,
  question_tsv     tsvector GENERATED ALWAYS AS (to_tsvector(ts_config, question)) STORED,
  location_section text,
  location_row     integer,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX faq_pairs_bot_seq_idx ON public.faq_pairs (bot_id, seq);
CREATE INDEX faq_pairs_document_idx ON public.faq_pairs (document_id) WHERE document_id IS NOT NULL;
CREATE INDEX faq_pairs_question_idx ON public.faq_pairs USING gin (question_tsv);
