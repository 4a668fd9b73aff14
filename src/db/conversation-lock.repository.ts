import pg from 'pg';
import type { ChannelName } from '../conversation/channel.ports.js';
import type { ConversationLease, ConversationLocks, InboundLease } from '../conversation/turn.ports.js';
import { isUuid } from '../postgres/ids.js';
import { NEXT_DUE_MESSAGE_SQL } from './inbound.repository.js';
import { PreparedStatements } from './prepared-statement.js';
import { ResilientClient } from './resilient-client.js';

// SQLSTATE of a lock wait that ran out of lock_timeout.
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * Per-conversation locks and per-creator slots as PostgreSQL session advisory locks, held on a
 * dedicated connection for the length of a turn. They work across worker processes, and a process
 * that dies (even by SIGKILL) loses its connection and with it every lock it held: no lease to expire.
 */
export class ConversationLockRepository implements ConversationLocks {
  private readonly pool: pg.Pool;
  private readonly statements: PreparedStatements;

  /**
   * `max` bounds the turns this process can run at once (one connection each). A conversation
   * locked by another turn is waited for up to `waitMs` (the lock connections' lock_timeout): the
   * holder is usually closing its turn (ledger, status) a few milliseconds after the reply went
   * out, exactly when a quick user's next message arrives. Waiting that long spares the message a
   * round of busy, delayed and retried; a longer turn still answers busy.
   */
  constructor(connectionString: string, max: number, options: { waitMs?: number; prepared?: boolean } = {}) {
    this.statements = new PreparedStatements(options.prepared ?? false);
    const waitMs = Math.max(1, Math.round(options.waitMs ?? 50));
    this.pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 5_000, options: `-c lock_timeout=${waitMs}`, Client: ResilientClient });
    this.pool.on('error', () => undefined);
  }

  async tryAcquire(conversationId: string, creatorId: string, creatorSlots: number): Promise<ConversationLease | null> {
    // The conversation's lock (waited for up to lock_timeout), then the creator's first free slot,
    // never waited for. One-key (bigint) and two-key (int, int) advisory locks live in separate
    // spaces. The slot subquery runs once the conversation lock is held and stops at the first
    // slot it gets (LIMIT 1).
    const held = await this.acquire<{ slot: number }>(
      'conversation_lock',
      `SELECT COALESCE((SELECT s FROM generate_series(0, $3::int - 1) s WHERE pg_try_advisory_lock(hashtext($2), s) LIMIT 1), -1) AS slot
         FROM (SELECT pg_advisory_lock(hashtextextended($1, 0))) AS conversation`,
      [`conversation:${conversationId}`, `creator:${creatorId}`, creatorSlots],
    );
    return held === 'gone' ? null : (held?.lease ?? null);
  }

  async acquireFor(inboundId: string, creatorSlots: number): Promise<InboundLease | 'gone' | null> {
    if (!isUuid(inboundId)) return 'gone';
    // As tryAcquire, with the keys read from the row in the same round trip. The fenced subquery
    // (OFFSET 0) takes the conversation's lock for its one row before the slot is tried.
    const held = await this.acquire<{ slot: number; bot_id: string; conversation_id: string; channel: ChannelName }>(
      'inbound_lock',
      `SELECT m.bot_id, m.conversation_id, m.channel,
              COALESCE((SELECT s FROM generate_series(0, $2::int - 1) s WHERE pg_try_advisory_lock(hashtext('creator:' || m.creator_id), s) LIMIT 1), -1) AS slot
         FROM (SELECT i.bot_id, i.conversation_id, i.channel, b.creator_id, pg_advisory_lock(hashtextextended('conversation:' || i.conversation_id, 0))
                 FROM public.inbound_messages i JOIN public.bots b ON b.id = i.bot_id
                WHERE i.id = $1 OFFSET 0) AS m`,
      [inboundId, creatorSlots],
    );
    if (held === 'gone' || held === null) return held;
    const { lease: locks, row } = held;
    const statements = this.statements;
    return {
      botId: row.bot_id,
      conversationId: row.conversation_id,
      channel: row.channel,
      release: () => locks.release(),
      async releaseFindingNext(settledMs) {
        // What a job queued behind this turn may now be answered for: read in the releasing round
        // trip, so a message committed before its job tried the lock is seen.
        const found = await locks.releaseWith(
          statements.query(
            'inbound_unlock_next_due',
            `SELECT pg_advisory_unlock_all(), (${NEXT_DUE_MESSAGE_SQL}) AS next_due`,
            [row.conversation_id, settledMs],
          ),
        );
        return (found?.next_due as string | null | undefined) ?? null;
      },
    };
  }

  /** Runs a lock statement answering one row with `slot`: the lease when it got its slot, null when busy, 'gone' for no row. */
  private async acquire<Row extends { slot: number }>(name: string, text: string, values: unknown[]): Promise<{ lease: HeldLocks; row: Row } | 'gone' | null> {
    const client = await this.pool.connect();
    try {
      const { rows } = await client.query<Row>(this.statements.query(name, text, values));
      const row = rows[0];
      if (!row) {
        // Nothing to lock: no lock was taken.
        client.release();
        return 'gone';
      }
      if (row.slot >= 0) return { lease: lease(client), row };
      // The conversation is ours but the creator has no free slot: let it go again.
      await client.query('SELECT pg_advisory_unlock_all()');
      client.release();
      return null;
    } catch (err) {
      if ((err as { code?: unknown }).code === LOCK_NOT_AVAILABLE) {
        // Still answered elsewhere; the wait took no lock, so the connection is clean.
        client.release();
        return null;
      }
      // A connection in an unknown state might still hold locks: destroy it rather than reuse it.
      client.release(err instanceof Error ? err : true);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Locks held on `client` until released, by a statement that unlocks them all (and may read something on the way). */
interface HeldLocks extends ConversationLease {
  releaseWith(statement: pg.QueryConfig): Promise<Record<string, unknown> | undefined>;
}

function lease(client: pg.PoolClient): HeldLocks {
  let released = false;
  const releaseWith = async (statement: pg.QueryConfig) => {
    if (released) return undefined;
    released = true;
    try {
      const { rows } = await client.query<Record<string, unknown>>(statement);
      client.release();
      return rows[0];
    } catch (err) {
      // Destroyed, not reused: the locks go with the connection.
      client.release(err instanceof Error ? err : true);
      return undefined;
    }
  };
  return {
    releaseWith,
    async release() {
      await releaseWith({ text: 'SELECT pg_advisory_unlock_all()' });
    },
  };
}
