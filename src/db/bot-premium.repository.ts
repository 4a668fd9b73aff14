import type pg from 'pg';
import type { ContactPremium } from '../billing/entitlements.js';
import type { BotPremiumStore } from '../billing/ports.js';
import { isUuid } from '../postgres/ids.js';

/** End-user premium per bot (`public.bot_premium`); callers check the bot belongs to the creator first. */
export class BotPremiumRepository implements BotPremiumStore {
  constructor(private readonly pool: pg.Pool) {}

  async find(botId: string): Promise<ContactPremium | null> {
    if (!isUuid(botId)) return null;
    const { rows } = await this.pool.query<ContactPremium>(
      `SELECT free_replies_per_month AS "freeRepliesPerMonth", stripe_price_id AS "stripePriceId", mode FROM public.bot_premium WHERE bot_id = $1`,
      [botId],
    );
    return rows[0] ?? null;
  }

  async save(botId: string, premium: ContactPremium): Promise<void> {
    await this.pool.query(
      `INSERT INTO public.bot_premium (bot_id, free_replies_per_month, stripe_price_id, mode) VALUES ($1, $2, $3, $4)
       ON CONFLICT (bot_id) DO UPDATE SET free_replies_per_month = EXCLUDED.free_replies_per_month,
         stripe_price_id = EXCLUDED.stripe_price_id, mode = EXCLUDED.mode, updated_at = now()`,
      [botId, premium.freeRepliesPerMonth, premium.stripePriceId, premium.mode],
    );
  }

  async remove(botId: string): Promise<boolean> {
    if (!isUuid(botId)) return false;
    const { rowCount } = await this.pool.query(`DELETE FROM public.bot_premium WHERE bot_id = $1`, [botId]);
    return rowCount === 1;
  }
}
