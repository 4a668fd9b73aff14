-- Every access token carries its creator's token version; raising it ends every session at once,
-- access tokens included (logout from all devices, password reset) instead of at their expiry.
ALTER TABLE public.creators ADD COLUMN token_version integer NOT NULL DEFAULT 0;
