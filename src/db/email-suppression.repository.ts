import type pg from 'pg';
import type { SuppressionStore } from '../email/delivery.ports.js';
import type { EmailCategory } from '../email/ports.js';
import { applySuppressionChange, normaliseEmail, type Suppression, type SuppressionChange, type SuppressionReason } from '../email/suppression.js';
import { inTransaction } from '../postgres/transaction.js';

interface SuppressionRow {
  email: string;
  reason: SuppressionReason;
  categories: EmailCategory[] | null;
  since: Date;
}

const SELECT = `SELECT email, reason, categories, since FROM public.email_suppressions WHERE email = $1`;

function toSuppression(row: SuppressionRow): Suppression {
  return { email: row.email, reason: row.reason, categories: row.categories, since: Math.floor(row.since.getTime() / 1000) };
}

/** The suppression list in `public.email_suppressions`, one row per (address, reason). */
export class EmailSuppressionRepository implements SuppressionStore {
  constructor(private readonly pool: pg.Pool) {}

  async forAddress(email: string): Promise<Suppression[]> {
    const { rows } = await this.pool.query<SuppressionRow>(SELECT, [normaliseEmail(email)]);
    return rows.map(toSuppression);
  }

  async apply(change: SuppressionChange): Promise<void> {
    const email = change.action === 'add' ? change.suppression.email : change.email;
    await inTransaction(this.pool, async (client) => {
      // Changes to one address are serialised, so the merge below works on the latest list.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`email-suppression:${email}`]);
      const { rows } = await client.query<SuppressionRow>(SELECT, [email]);
      const next = applySuppressionChange(rows.map(toSuppression), change);
      await client.query('DELETE FROM public.email_suppressions WHERE email = $1', [email]);
      for (const s of next) {
        await client.query(
          `INSERT INTO public.email_suppressions (email, reason, categories, since) VALUES ($1, $2, $3, to_timestamp($4))`,
          [s.email, s.reason, s.categories, s.since],
        );
      }
    });
  }
}
