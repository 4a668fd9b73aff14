-- Open event streams per creator, counted across API processes when there is no Redis. A lease
-- expires unless its process renews it, so a crashed process's streams stop counting.
CREATE TABLE public.event_stream_leases (
  id uuid PRIMARY KEY,
  creator_id uuid NOT NULL REFERENCES public.creators (id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL
);
CREATE INDEX event_stream_leases_creator_idx ON public.event_stream_leases (creator_id, expires_at);
