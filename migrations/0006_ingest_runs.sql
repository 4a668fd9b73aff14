-- Which ingestion run last claimed a document, and how many times that run was claimed without
-- finishing. A run whose worker died mid-document is claimed again; the third claim of a run that
-- never finished sets the document aside as failed instead of crashing the worker once more.
ALTER TABLE public.documents
  ADD COLUMN ingest_run text,
  ADD COLUMN ingest_open_claims integer NOT NULL DEFAULT 0;
