import type pg from 'pg';
import type { ChannelName } from '../conversation/channel.ports.js';
import type { ConversationLease, ConversationLocks, InboundLease } from '../conversation/turn.ports.js';
import { isUuid } from '../postgres/ids.js';
import { NEXT_DUE_MESSAGE_SQL } from './inbound.repository.js';

/**
 * Per-conversation locks and per-creator slots held in this process, for the embedded database.
 * There every connection is the same PGlite session, so PostgreSQL's session advisory locks (what
 * ConversationLockRepository uses) would be re-entrant for every caller and exclude nothing; and
 * the embedded database serves one process, so in-memory locks are the whole truth. A lock that is
 * taken is waited for up to `waitMs`, as lock_timeout does on the server.
 */
export class InProcessConversationLocks implements ConversationLocks {
  // Conversations held, each with the callbacks of those waiting for it (first come, first served).
  private readonly held = new Map<string, Array<() => void>>();
  private readonly slotsInUse = new Map<string, number>();
  private readonly waitMs: number;

  constructor(
    private readonly pool: pg.Pool,
    options: { waitMs?: number } = {},
  ) {
    this.waitMs = Math.max(1, Math.round(options.waitMs ?? 50));
  }

  async tryAcquire(conversationId: string, creatorId: string, creatorSlots: number): Promise<ConversationLease | null> {
    if (!(await this.lockConversation(conversationId))) return null;
    const used = this.slotsInUse.get(creatorId) ?? 0;
    if (used >= creatorSlots) {
      this.unlockConversation(conversationId);
      return null;
    }
    this.slotsInUse.set(creatorId, used + 1);
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        const left = (this.slotsInUse.get(creatorId) ?? 1) - 1;
        if (left > 0) this.slotsInUse.set(creatorId, left);
        else this.slotsInUse.delete(creatorId);
        this.unlockConversation(conversationId);
      },
    };
  }

  async acquireFor(inboundId: string, creatorSlots: number): Promise<InboundLease | 'gone' | null> {
    if (!isUuid(inboundId)) return 'gone';
    const { rows } = await this.pool.query<{ bot_id: string; conversation_id: string; channel: ChannelName; creator_id: string }>(
      `SELECT i.bot_id, i.conversation_id, i.channel, b.creator_id
         FROM public.inbound_messages i JOIN public.bots b ON b.id = i.bot_id WHERE i.id = $1`,
      [inboundId],
    );
    const row = rows[0];
    if (!row) return 'gone';
    const lease = await this.tryAcquire(row.conversation_id, row.creator_id, creatorSlots);
    if (!lease) return null;
    return {
      botId: row.bot_id,
      conversationId: row.conversation_id,
      channel: row.channel,
      release: () => lease.release(),
      releaseFindingNext: async (settledMs) => {
        await lease.release();
        const { rows: due } = await this.pool.query<{ id: string }>(NEXT_DUE_MESSAGE_SQL, [row.conversation_id, settledMs]);
        return due[0]?.id ?? null;
      },
    };
  }

  async close(): Promise<void> {
    // Nothing to close: the locks live and die with the process.
  }

  /** Takes the conversation, waiting up to `waitMs` for its holder; false when it stays taken. */
  private lockConversation(conversationId: string): Promise<boolean> {
    const waiters = this.held.get(conversationId);
    if (!waiters) {
      this.held.set(conversationId, []);
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const handOver = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(handOver), 1);
        resolve(false);
      }, this.waitMs);
      waiters.push(handOver);
    });
  }

  /** Hands the conversation to its first waiter, or frees it. */
  private unlockConversation(conversationId: string): void {
    const next = this.held.get(conversationId)?.shift();
    if (next) next();
    else this.held.delete(conversationId);
  }
}
