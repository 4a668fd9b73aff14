-- Websites a bot's knowledge base reads: a start address, how to find its pages (sitemap or
-- links on the same origin), and how often to look again. Each page found is a document of the site.
CREATE TABLE public.sites (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  bot_id              uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  root_url            text NOT NULL,
  use_sitemap         boolean NOT NULL DEFAULT true,
  max_pages           integer NOT NULL CHECK (max_pages > 0),
  same_origin         boolean NOT NULL DEFAULT true,
  -- 0: synced on demand only
  sync_interval_hours integer NOT NULL DEFAULT 24 CHECK (sync_interval_hours >= 0),
  status              text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'crawling', 'ready', 'failed')),
  error               text,
  -- The run holding the site: a run taken over after a crash keeps its start, so pages it already
  -- fetched are not fetched again; another run waits until the holder's heartbeat is stale.
  crawl_run           text,
  crawl_started_at    timestamptz,
  crawl_heartbeat     timestamptz,
  pages_found         integer NOT NULL DEFAULT 0,
  last_synced_at      timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sites_bot_idx ON public.sites (bot_id, created_at);

-- What a web page was last fetched as, for conditional requests on the next sync.
ALTER TABLE public.documents
  ADD COLUMN site_id uuid REFERENCES public.sites (id) ON DELETE CASCADE,
  -- the address requested for the page (source_url is its canonical address after redirects)
  ADD COLUMN fetch_url text,
  ADD COLUMN etag text,
  ADD COLUMN last_modified text,
  ADD COLUMN fetched_at timestamptz,
  -- same-origin links of the page, so a crawl resumed after a crash needs not fetch it again
  ADD COLUMN out_links text[];
CREATE UNIQUE INDEX documents_site_url_idx ON public.documents (site_id, source_url) WHERE site_id IS NOT NULL;
