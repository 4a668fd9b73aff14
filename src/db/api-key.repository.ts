import type pg from 'pg';
import type { ApiKey, ApiKeyStore } from '../accounts/account.types.js';
import { isUuid } from '../postgres/ids.js';

const COLUMNS = `id, name, prefix, created_at AS "createdAt", last_used_at AS "lastUsedAt"`;

/** API keys in `public.api_keys`, by SHA-256 hash; every read and delete is scoped to the creator. */
export class ApiKeyRepository implements ApiKeyStore {
  constructor(private readonly pool: pg.Pool) {}

  async insert(input: { creatorId: string; name: string; prefix: string; keyHash: string }): Promise<ApiKey> {
    const { rows } = await this.pool.query<ApiKey>(
      `INSERT INTO public.api_keys (creator_id, name, prefix, key_hash) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
      [input.creatorId, input.name, input.prefix, input.keyHash],
    );
    return rows[0]!;
  }

  async listByCreator(creatorId: string): Promise<ApiKey[]> {
    const { rows } = await this.pool.query<ApiKey>(
      `SELECT ${COLUMNS} FROM public.api_keys WHERE creator_id = $1 ORDER BY created_at DESC, id`,
      [creatorId],
    );
    return rows;
  }

  async delete(creatorId: string, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const { rowCount } = await this.pool.query(`DELETE FROM public.api_keys WHERE id = $1 AND creator_id = $2`, [id, creatorId]);
    return (rowCount ?? 0) > 0;
  }

  async touchByHash(keyHash: string): Promise<{ creatorId: string; keyId: string } | null> {
    const { rows } = await this.pool.query<{ creatorId: string; keyId: string }>(
      `UPDATE public.api_keys SET last_used_at = now() WHERE key_hash = $1 RETURNING creator_id AS "creatorId", id AS "keyId"`,
      [keyHash],
    );
    return rows[0] ?? null;
  }

  async has(creatorId: string, keyId: string): Promise<boolean> {
    if (!isUuid(keyId)) return false;
    const { rows } = await this.pool.query(`SELECT 1 FROM public.api_keys WHERE id = $1 AND creator_id = $2`, [keyId, creatorId]);
    return rows.length > 0;
  }
}
