-- Changing a bot's embedding model re-embeds its documents in the background. A chunk may then hold
-- vectors of two models at once: the document's active one (documents.embedding_model, which
-- retrieval reads) and the one being built. Each vector says which model made it; rows written
-- before this had the model of their document.
ALTER TABLE public.chunk_embeddings ADD COLUMN model text;
UPDATE public.chunk_embeddings e SET model = d.embedding_model
  FROM public.documents d WHERE d.id = e.document_id AND d.embedding_model IS NOT NULL;
-- Vectors of documents stored for full text only, or already gone, were never read: nothing to keep.
DELETE FROM public.chunk_embeddings WHERE model IS NULL;
ALTER TABLE public.chunk_embeddings ALTER COLUMN model SET NOT NULL;
ALTER TABLE public.chunk_embeddings DROP CONSTRAINT chunk_embeddings_pkey;
ALTER TABLE public.chunk_embeddings ADD PRIMARY KEY (chunk_id, model);
DROP INDEX public.chunk_embeddings_bot_idx;
CREATE INDEX chunk_embeddings_bot_idx ON public.chunk_embeddings (bot_id, dims, model);

-- The model a document is being re-embedded with, and how many of its chunks (in ordinal order)
-- already have that model's vectors: a worker that stops resumes from there. After the switch, the
-- model it left until its vectors are deleted, so a worker stopping in between does not leave them.
ALTER TABLE public.documents
  ADD COLUMN reembed_model text,
  ADD COLUMN reembed_done integer NOT NULL DEFAULT 0,
  ADD COLUMN retired_embedding_model text;
CREATE INDEX documents_reembed_idx ON public.documents (bot_id)
  WHERE reembed_model IS NOT NULL OR retired_embedding_model IS NOT NULL;
