import type { InboundStore, TurnQueue } from './turn.ports.js';

export interface ReconcileDeps {
  inbound: Pick<InboundStore, 'unfinished'>;
  queue: Pick<TurnQueue, 'ensure'>;
  /** Rows younger than this are left to the webhook's own enqueue (it may not have run yet). */
  graceMs: number;
  /** Rows looked at per run. */
  batchSize?: number;
}

/**
 * Postgres is the source of truth, the queue only carries work: re-enqueues every inbound message
 * that has no answered turn and no live job (the queue lost it, or enqueueing failed after commit).
 */
export class ReconcileService {
  constructor(private readonly deps: ReconcileDeps) {}

  /** One pass; resolves to how many jobs were re-created. */
  async run(): Promise<number> {
    const rows = await this.deps.inbound.unfinished(this.deps.graceMs, this.deps.batchSize ?? 500);
    let added = 0;
    for (const row of rows) {
      if (await this.deps.queue.ensure(row.inboundId, row.botId)) added += 1;
    }
    return added;
  }
}
