import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { StreamLeases } from '../events/stream-lease.js';
import { inTransaction } from '../postgres/transaction.js';

/**
 * Stream leases in `public.event_stream_leases` (no Redis). Acquiring takes a transaction-scoped
 * advisory lock on the creator, so two processes counting at once cannot both take the last slot.
 */
export class StreamLeaseRepository implements StreamLeases {
  constructor(
    private readonly pool: pg.Pool,
    private readonly ttlMs: number,
  ) {}

  acquire(creatorId: string, max: number): Promise<string | null> {
    return inTransaction(this.pool, async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('event-streams:' || $1, 0))`, [creatorId]);
      await client.query(`DELETE FROM public.event_stream_leases WHERE creator_id = $1 AND expires_at <= now()`, [creatorId]);
      const leaseId = randomUUID();
      const { rowCount } = await client.query(
        `INSERT INTO public.event_stream_leases (id, creator_id, expires_at)
         SELECT $2, $1, now() + $4 * interval '1 millisecond'
          WHERE (SELECT count(*) FROM public.event_stream_leases WHERE creator_id = $1) < $3`,
        [creatorId, leaseId, max, this.ttlMs],
      );
      return (rowCount ?? 0) > 0 ? leaseId : null;
    });
  }

  async renew(leases: Array<{ creatorId: string; leaseId: string }>): Promise<void> {
    if (leases.length === 0) return;
    await this.pool.query(
      `UPDATE public.event_stream_leases SET expires_at = now() + $2 * interval '1 millisecond' WHERE id = ANY($1::uuid[]) AND expires_at > now()`,
      [leases.map((l) => l.leaseId), this.ttlMs],
    );
  }

  async release(_creatorId: string, leaseId: string): Promise<void> {
    await this.pool.query(`DELETE FROM public.event_stream_leases WHERE id = $1`, [leaseId]);
  }
}
