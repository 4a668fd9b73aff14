-- Creators, their credentials, bots and knowledge base.
-- Our tables live in `public`; BullMQ's PostgreSQL backend keeps its own tables in schema `bullmq`.

CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE public.creators (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text NOT NULL,
  name          text NOT NULL,
  password_hash text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX creators_email_key ON public.creators (lower(email));

-- Refresh tokens rotate on every use; all tokens descending from one login share a family, so a
-- replayed (already rotated) token can revoke the whole family.
CREATE TABLE public.refresh_tokens (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  creator_id  uuid NOT NULL REFERENCES public.creators (id) ON DELETE CASCADE,
  family_id   uuid NOT NULL,
  token_hash  text NOT NULL UNIQUE,
  expires_at  timestamptz NOT NULL,
  rotated_at  timestamptz,
  revoked_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON public.refresh_tokens (family_id);

CREATE TABLE public.api_keys (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  creator_id   uuid NOT NULL REFERENCES public.creators (id) ON DELETE CASCADE,
  name         text NOT NULL,
  prefix       text NOT NULL,
  key_hash     text NOT NULL UNIQUE,
  last_used_at timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_creator_idx ON public.api_keys (creator_id);

CREATE TABLE public.bots (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  creator_id  uuid NOT NULL REFERENCES public.creators (id) ON DELETE CASCADE,
  name        text NOT NULL,
  persona     text NOT NULL DEFAULT '',
  language    text NOT NULL DEFAULT 'en',
  settings    jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bots_creator_idx ON public.bots (creator_id);

-- Channel credentials are sealed with AES-256-GCM before they reach this table; `public_config`
-- holds only what may be shown (bot username, phone number id).
CREATE TABLE public.bot_channels (
  bot_id        uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  channel       text NOT NULL CHECK (channel IN ('telegram', 'whatsapp')),
  credentials   text NOT NULL,
  public_config jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (bot_id, channel)
);

CREATE TABLE public.documents (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  bot_id         uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  title          text NOT NULL,
  source_kind    text NOT NULL CHECK (source_kind IN ('upload', 'url')),
  source_url     text,
  filename       text,
  media_type     text,
  size_bytes     bigint,
  content_hash   text,
  -- hash of the content the current chunks were built from; equal to content_hash means nothing to do
  ingested_hash  text,
  status         text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'processing', 'ready', 'failed')),
  error          text,
  progress       real NOT NULL DEFAULT 0,
  chunk_count    integer NOT NULL DEFAULT 0,
  page_count     integer,
  retrieval_mode text CHECK (retrieval_mode IN ('hybrid', 'lexical')),
  embedding_model text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  ingested_at    timestamptz
);
CREATE INDEX documents_bot_idx ON public.documents (bot_id, created_at);

-- The original bytes, kept in the database so API and worker processes need no shared disk and
-- re-ingestion can always start from the source.
CREATE TABLE public.document_blobs (
  document_id uuid PRIMARY KEY REFERENCES public.documents (id) ON DELETE CASCADE,
  content     bytea NOT NULL
);

CREATE TABLE public.chunks (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  bot_id      uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  document_id uuid NOT NULL REFERENCES public.documents (id) ON DELETE CASCADE,
  ordinal     integer NOT NULL,
  page        integer,
  text        text NOT NULL,
  ts_config   regconfig NOT NULL DEFAULT 'simple',
  tsv         tsvector GENERATED ALWAYS AS (to_tsvector(ts_config, text)) STORED,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chunks_bot_idx ON public.chunks (bot_id);
CREATE INDEX chunks_document_idx ON public.chunks (document_id, ordinal);
CREATE INDEX chunks_tsv_idx ON public.chunks USING gin (tsv);

-- Vectors for the pgvector store. No foreign key to chunks: vectors are written before a
-- document's chunk swap commits and removed after it, and retrieval joins to live chunks, so a
-- reader never sees a half-replaced document. Dimension varies by embedding model; HNSW indexes
-- are built per dimension as partial expression indexes by the store.
CREATE TABLE public.chunk_embeddings (
  chunk_id    uuid PRIMARY KEY,
  bot_id      uuid NOT NULL,
  document_id uuid NOT NULL,
  dims        integer NOT NULL,
  embedding   vector NOT NULL
);
CREATE INDEX chunk_embeddings_bot_idx ON public.chunk_embeddings (bot_id, dims);
CREATE INDEX chunk_embeddings_document_idx ON public.chunk_embeddings (document_id);
