import type pg from 'pg';
import type { RefreshTokenStore, StoredRefreshToken } from '../accounts/account.types.js';
import { isUuid } from '../postgres/ids.js';

/** Refresh tokens in `public.refresh_tokens`, by SHA-256 hash, grouped into families per login. */
export class RefreshTokenRepository implements RefreshTokenStore {
  constructor(private readonly pool: pg.Pool) {}

  async insert(input: { creatorId: string; familyId: string; tokenHash: string; expiresAt: Date }): Promise<void> {
    await this.pool.query(
      `INSERT INTO public.refresh_tokens (creator_id, family_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)`,
      [input.creatorId, input.familyId, input.tokenHash, input.expiresAt],
    );
  }

  async rotate(oldHash: string, next: { tokenHash: string; expiresAt: Date }): Promise<{ creatorId: string; familyId: string } | null> {
    // One statement: of two concurrent uses of the same token exactly one wins, and a successor is
    // never written without its predecessor being marked rotated.
    const { rows } = await this.pool.query<{ creatorId: string; familyId: string }>(
      `WITH old AS (
         UPDATE public.refresh_tokens SET rotated_at = now()
          WHERE token_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > now()
          RETURNING creator_id, family_id
       )
       INSERT INTO public.refresh_tokens (creator_id, family_id, token_hash, expires_at)
       SELECT creator_id, family_id, $2, $3 FROM old
       RETURNING creator_id AS "creatorId", family_id AS "familyId"`,
      [oldHash, next.tokenHash, next.expiresAt],
    );
    return rows[0] ?? null;
  }

  async findByHash(tokenHash: string): Promise<StoredRefreshToken | null> {
    const { rows } = await this.pool.query<StoredRefreshToken>(
      `SELECT creator_id AS "creatorId", family_id AS "familyId", expires_at AS "expiresAt",
              rotated_at AS "rotatedAt", revoked_at AS "revokedAt"
         FROM public.refresh_tokens WHERE token_hash = $1`,
      [tokenHash],
    );
    return rows[0] ?? null;
  }

  async revokeFamily(familyId: string): Promise<void> {
    await this.pool.query(`UPDATE public.refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL`, [familyId]);
  }

  async familyLive(creatorId: string, familyId: string): Promise<boolean> {
    if (!isUuid(familyId)) return false;
    const { rows } = await this.pool.query(
      `SELECT 1 FROM public.refresh_tokens WHERE family_id = $1 AND creator_id = $2 AND revoked_at IS NULL AND expires_at > now() LIMIT 1`,
      [familyId, creatorId],
    );
    return rows.length > 0;
  }

  async revokeAllForCreator(creatorId: string): Promise<void> {
    // One statement: refresh tokens revoked and the token version raised (access tokens dead) together.
    await this.pool.query(
      `WITH sessions AS (
         UPDATE public.refresh_tokens SET revoked_at = now() WHERE creator_id = $1 AND revoked_at IS NULL
       )
       UPDATE public.creators SET token_version = token_version + 1 WHERE id = $1`,
      [creatorId],
    );
  }
}
