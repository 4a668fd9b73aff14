-- The Stripe Checkout Session each creator was last sent to. A second click on "subscribe" — a
-- second or an hour later — gets the same session while it is open, instead of another one the
-- creator could pay for as well.
CREATE TABLE public.creator_checkouts (
  creator_id  uuid PRIMARY KEY REFERENCES public.creators (id) ON DELETE CASCADE,
  session_id  text NOT NULL,
  url         text NOT NULL,
  plan_id     text NOT NULL,
  price_id    text NOT NULL,
  expires_at  timestamptz NOT NULL,
  -- set by Stripe's checkout.session.completed / .expired: the session can no longer be paid
  ended_at    timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
-- Stripe's events name the session, not the creator.
CREATE INDEX creator_checkouts_session_idx ON public.creator_checkouts (session_id);
