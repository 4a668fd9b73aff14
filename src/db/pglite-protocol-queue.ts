/**
 * The query queue behind the embedded database's socket server (@electric-sql/pglite-socket).
 *
 * PGlite has one session for every socket client. pglite-socket 0.2.17 queues each wire-protocol
 * message on its own, so the Parse/Bind/Execute messages of two clients' extended queries can
 * interleave and clobber each other's unnamed statement and portal ("bind message supplies 3
 * parameters, but prepared statement requires 2"). This queue keeps a client's messages until its
 * Sync (or Flush, or a simple Query) and runs the whole batch as one exclusive unit. While a client
 * holds a transaction open, only that client's batches run, as in the original queue.
 */

/** The part of PGlite this queue drives. */
export interface ProtocolDatabase {
  isInTransaction(): boolean;
  runExclusive<T>(work: () => Promise<T>): Promise<T>;
  execProtocolRawStream(message: Uint8Array, options: { onRawData: (chunk: Uint8Array) => void }): Promise<void>;
  exec(sql: string): Promise<unknown>;
}

interface Batch {
  handlerId: number;
  messages: Uint8Array[];
  onData: (chunk: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (err: unknown) => void;
}

// Frontend messages of an extended query that wait for the batch's Sync: Parse, Bind, Describe,
// Execute, Close.
const CONTINUATION_TYPES = new Set(['P', 'B', 'D', 'E', 'C'].map((c) => c.charCodeAt(0)));

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Drop-in replacement for pglite-socket's QueryQueueManager (same method names and meaning). */
export class ProtocolBatchQueue {
  private readonly partial = new Map<number, Uint8Array[]>();
  private queue: Batch[] = [];
  private processing = false;
  private lastHandlerId: number | null = null;

  constructor(private readonly db: ProtocolDatabase) {}

  /** Accepts one frontend message; resolves with the number of response bytes it produced. */
  enqueue(handlerId: number, message: Uint8Array, onData: (chunk: Uint8Array) => void): Promise<number> {
    const type = message[0];
    if (type !== undefined && CONTINUATION_TYPES.has(type)) {
      const pending = this.partial.get(handlerId) ?? [];
      pending.push(message);
      this.partial.set(handlerId, pending);
      return Promise.resolve(0);
    }
    const messages = [...(this.partial.get(handlerId) ?? []), message];
    this.partial.delete(handlerId);
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, messages, onData, resolve, reject });
      void this.process();
    });
  }

  private next(): Batch | undefined {
    if (this.db.isInTransaction() && this.lastHandlerId !== null) {
      // Only the client that opened the transaction may run until it ends.
      const index = this.queue.findIndex((b) => b.handlerId === this.lastHandlerId);
      return index === -1 ? undefined : this.queue.splice(index, 1)[0];
    }
    return this.queue.shift();
  }

  private async process(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      for (let batch = this.next(); batch; batch = this.next()) {
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(concat(batch!.messages), {
              onRawData: (chunk) => {
                bytes += chunk.length;
                batch!.onData(chunk);
              },
            }),
          );
          this.lastHandlerId = batch.handlerId;
          batch.resolve(bytes);
        } catch (err) {
          batch.reject(err);
        }
      }
    } finally {
      this.processing = false;
    }
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  /** A client went away: its queued work is dropped. */
  clearQueueForHandler(handlerId: number): void {
    this.partial.delete(handlerId);
    this.queue = this.queue.filter((batch) => {
      if (batch.handlerId !== handlerId) return true;
      batch.reject(new Error('Handler disconnected'));
      return false;
    });
  }

  /** A client went away inside its transaction: roll it back so the others can run. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.db.isInTransaction() && this.lastHandlerId === handlerId) {
      await this.db.exec('ROLLBACK');
      this.lastHandlerId = null;
      await this.process();
    }
  }
}
