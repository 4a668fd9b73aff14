import type pg from 'pg';
import type { AccountTokenPurpose, AccountTokenStore } from '../accounts/account.types.js';
import { isUuid } from '../postgres/ids.js';

/** Email verification and password-reset tokens in `public.account_tokens`, by SHA-256 hash. */
export class AccountTokenRepository implements AccountTokenStore {
  constructor(private readonly pool: pg.Pool) {}

  async issue(input: { creatorId: string; purpose: AccountTokenPurpose; tokenHash: string; email: string; expiresAt: Date }): Promise<{ id: string }> {
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO public.account_tokens (creator_id, purpose, token_hash, email, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [input.creatorId, input.purpose, input.tokenHash, input.email, input.expiresAt],
    );
    return rows[0]!;
  }

  async countSince(creatorId: string, purpose: AccountTokenPurpose, since: Date): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM public.account_tokens WHERE creator_id = $1 AND purpose = $2 AND created_at >= $3`,
      [creatorId, purpose, since],
    );
    return rows[0]?.n ?? 0;
  }

  async isLive(purpose: AccountTokenPurpose, tokenHash: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ live: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM public.account_tokens WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()) AS live`,
      [tokenHash, purpose],
    );
    return rows[0]?.live ?? false;
  }

  async confirmEmail(tokenHash: string): Promise<{ creatorId: string; email: string } | null> {
    // One statement: of two concurrent uses exactly one wins, and the token is spent only if the
    // address it was issued for is still the creator's.
    const { rows } = await this.pool.query<{ creatorId: string; email: string }>(
      `WITH token AS (
         UPDATE public.account_tokens t SET used_at = now()
           FROM public.creators c
          WHERE t.token_hash = $1 AND t.purpose = 'verify-email' AND t.used_at IS NULL AND t.expires_at > now()
            AND c.id = t.creator_id AND lower(c.email) = lower(t.email)
          RETURNING t.creator_id, t.email
       ), verified AS (
         UPDATE public.creators c SET email_verified_at = coalesce(c.email_verified_at, now()), updated_at = now()
           FROM token WHERE c.id = token.creator_id
          RETURNING c.id
       )
       SELECT token.creator_id AS "creatorId", token.email FROM token JOIN verified ON verified.id = token.creator_id`,
      [tokenHash],
    );
    return rows[0] ?? null;
  }

  async resetPassword(tokenHash: string, passwordHash: string): Promise<{ creatorId: string } | null> {
    // One statement: the token is spent, the password replaced, every session ended and every other
    // reset link of the creator voided together, or none of it happens.
    const { rows } = await this.pool.query<{ creatorId: string }>(
      `WITH token AS (
         UPDATE public.account_tokens SET used_at = now()
          WHERE token_hash = $1 AND purpose = 'password-reset' AND used_at IS NULL AND expires_at > now()
          RETURNING creator_id
       ), creator AS (
         UPDATE public.creators c SET password_hash = $2, token_version = c.token_version + 1, updated_at = now()
           FROM token WHERE c.id = token.creator_id RETURNING c.id
       ), sessions AS (
         UPDATE public.refresh_tokens r SET revoked_at = now() FROM creator WHERE r.creator_id = creator.id AND r.revoked_at IS NULL
       ), other_links AS (
         UPDATE public.account_tokens t SET used_at = now() FROM creator
          WHERE t.creator_id = creator.id AND t.purpose = 'password-reset' AND t.used_at IS NULL AND t.token_hash <> $1
       )
       SELECT id AS "creatorId" FROM creator`,
      [tokenHash, passwordHash],
    );
    return rows[0] ?? null;
  }

  async isEmailVerified(creatorId: string): Promise<boolean> {
    if (!isUuid(creatorId)) return false;
    const { rows } = await this.pool.query<{ verified: boolean }>(`SELECT email_verified_at IS NOT NULL AS verified FROM public.creators WHERE id = $1`, [creatorId]);
    return rows[0]?.verified ?? false;
  }
}
