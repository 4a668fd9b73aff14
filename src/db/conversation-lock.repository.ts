import pg from 'pg';
import type { ConversationLease, ConversationLocks } from '../conversation/turn.ports.js';
import { ResilientClient } from './resilient-client.js';

/**
 * Per-conversation locks and per-creator slots as PostgreSQL session advisory locks, held on a
 * dedicated connection for the length of a turn. They work across worker processes, and a process
 * that dies (even by SIGKILL) loses its connection and with it every lock it held: no lease to expire.
 */
export class ConversationLockRepository implements ConversationLocks {
  private readonly pool: pg.Pool;

  /** `max` bounds the turns this process can run at once (one connection each). */
  constructor(connectionString: string, max: number) {
    this.pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 5_000, Client: ResilientClient });
    this.pool.on('error', () => undefined);
  }

  async tryAcquire(conversationId: string, creatorId: string, creatorSlots: number): Promise<ConversationLease | null> {
    const client = await this.pool.connect();
    try {
      // One round trip: the conversation's lock, then the creator's first free slot. One-key (bigint)
      // and two-key (int, int) advisory locks live in separate spaces. The slot subquery runs only
      // when the conversation lock was taken, and stops at the first slot it gets (LIMIT 1).
      const { rows } = await client.query<{ slot: number }>(
        `SELECT CASE WHEN pg_try_advisory_lock(hashtextextended($1, 0))
                     THEN COALESCE((SELECT s FROM generate_series(0, $3::int - 1) s WHERE pg_try_advisory_lock(hashtext($2), s) LIMIT 1), -1)
                     ELSE -2 END AS slot`,
        [`conversation:${conversationId}`, `creator:${creatorId}`, creatorSlots],
      );
      const slot = rows[0]!.slot;
      if (slot >= 0) return lease(client);
      // -1: the conversation was locked but the creator has no free slot; let it go again.
      if (slot === -1) await client.query('SELECT pg_advisory_unlock_all()');
      client.release();
      return null;
    } catch (err) {
      // A connection in an unknown state might still hold locks: destroy it rather than reuse it.
      client.release(err instanceof Error ? err : true);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function lease(client: pg.PoolClient): ConversationLease {
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      try {
        await client.query('SELECT pg_advisory_unlock_all()');
        client.release();
      } catch (err) {
        client.release(err instanceof Error ? err : true);
      }
    },
  };
}
