-- WhatsApp: bots are found by their business phone number, delivery reports are kept per sent
-- message, and files users send are recorded once downloaded.

-- The channel's own address of the bot (WhatsApp: phone_number_id), so webhooks can be routed.
ALTER TABLE public.bot_channels ADD COLUMN route_key text;
-- SHA-256 of the webhook verify token, to answer Meta's subscription handshake without decrypting.
ALTER TABLE public.bot_channels ADD COLUMN verify_token_hash text;
CREATE UNIQUE INDEX bot_channels_route_idx ON public.bot_channels (channel, route_key) WHERE route_key IS NOT NULL;
CREATE INDEX bot_channels_verify_token_idx ON public.bot_channels (verify_token_hash) WHERE verify_token_hash IS NOT NULL;

-- The furthest delivery state the channel reported for one message we sent. Kept apart from the
-- ledger because a report can arrive before the ledger records the message id.
CREATE TABLE public.message_deliveries (
  bot_id              uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  external_message_id text NOT NULL,
  status              text NOT NULL CHECK (status IN ('sent', 'delivered', 'read', 'failed')),
  error_code          integer,
  error_title         text,
  error_details       text,
  -- when the channel says the state was reached
  status_at           timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (bot_id, external_message_id)
);
CREATE INDEX outbound_messages_external_ids_idx ON public.outbound_messages USING gin (external_message_ids);
CREATE INDEX outbound_messages_bot_idx ON public.outbound_messages (bot_id, created_at DESC);

-- Files users sent, downloaded from the channel and kept in media storage.
CREATE TABLE public.media_files (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  bot_id          uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL REFERENCES public.conversations (id) ON DELETE CASCADE,
  channel         text NOT NULL,
  -- the channel's handle (WhatsApp media id, Telegram file_id)
  file_id         text NOT NULL,
  kind            text NOT NULL,
  mime_type       text NOT NULL,
  file_name       text,
  size_bytes      bigint NOT NULL,
  sha256          text NOT NULL,
  storage_key     text NOT NULL,
  -- text read from a document, for the model to answer questions about it
  extracted_text  text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (bot_id, channel, file_id)
);
CREATE INDEX media_files_conversation_idx ON public.media_files (conversation_id, created_at DESC);
