import type pg from 'pg';
import type { SharedSendPace } from '../conversation/channel.ports.js';

/** Send slots in PostgreSQL (no Redis): the key's row is locked for the moment its next slot is taken. */
export class PgSendPace implements SharedSendPace {
  constructor(private readonly pool: pg.Pool) {}

  async reserve(key: string, intervalMs: number): Promise<number> {
    // The database's clock, so every process agrees; the slot taken is next_at before the update.
    const { rows } = await this.pool.query<{ wait_ms: string }>(
      `INSERT INTO public.send_pace AS p (key, next_at) VALUES ($1, clock_timestamp() + $2 * interval '1 millisecond')
       ON CONFLICT (key) DO UPDATE SET next_at = GREATEST(p.next_at, clock_timestamp()) + $2 * interval '1 millisecond'
       RETURNING GREATEST(0, extract(epoch FROM p.next_at - clock_timestamp()) * 1000 - $2) AS wait_ms`,
      [key, intervalMs],
    );
    return Number(rows[0]!.wait_ms);
  }
}
