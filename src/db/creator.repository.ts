import type pg from 'pg';
import type { Creator, CreatorStore, CreatorWithPassword } from '../accounts/account.types.js';
import { isUuid } from '../postgres/ids.js';

const UNIQUE_VIOLATION = '23505';

/** Creators in `public.creators`; emails are unique case-insensitively (index on lower(email)). */
export class CreatorRepository implements CreatorStore {
  constructor(private readonly pool: pg.Pool) {}

  async insert(input: { email: string; name: string; passwordHash: string }): Promise<Creator | null> {
    try {
      const { rows } = await this.pool.query<Creator>(
        `INSERT INTO public.creators (email, name, password_hash) VALUES ($1, $2, $3) RETURNING id, email, name`,
        [input.email, input.name, input.passwordHash],
      );
      return rows[0] ?? null;
    } catch (err) {
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) return null;
      throw err;
    }
  }

  async findByEmail(email: string): Promise<CreatorWithPassword | null> {
    const { rows } = await this.pool.query<CreatorWithPassword>(
      `SELECT id, email, name, password_hash AS "passwordHash" FROM public.creators WHERE lower(email) = lower($1)`,
      [email],
    );
    return rows[0] ?? null;
  }

  async findById(id: string): Promise<Creator | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.pool.query<Creator>(`SELECT id, email, name FROM public.creators WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  /** The version every live access token of the creator carries; null for an unknown creator. */
  async tokenVersion(id: string): Promise<number | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.pool.query<{ version: number }>(`SELECT token_version AS version FROM public.creators WHERE id = $1`, [id]);
    return rows[0]?.version ?? null;
  }

  /** The first bot with a published web chat of the creator signed up with `email` (the demo coach's, for the landing page), or null. */
  async firstPublishedBotIdByEmail(email: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT b.id FROM public.bots b
         JOIN public.creators c ON c.id = b.creator_id
         JOIN public.web_chat_publications p ON p.bot_id = b.id
        WHERE lower(c.email) = lower($1)
        ORDER BY b.created_at, b.id LIMIT 1`,
      [email],
    );
    return rows[0]?.id ?? null;
  }

  /** Whether any creator exists (a fresh installation has none). */
  async any(): Promise<boolean> {
    const { rows } = await this.pool.query<{ found: boolean }>('SELECT EXISTS (SELECT 1 FROM public.creators) AS found');
    return rows[0]?.found ?? false;
  }
}
