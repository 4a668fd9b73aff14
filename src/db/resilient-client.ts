import pg from 'pg';

/**
 * A pg client that never crashes the process when its server goes away. A pooled client that is
 * checked out but between queries emits `error` when its connection dies; with no listener that is
 * an uncaught exception. The failure still reaches the caller: the client's next query rejects and
 * the pool discards it on release.
 */
export class ResilientClient extends pg.Client {
  // An emit, not a listener: some owners (BullMQ) remove every error listener while tearing down.
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'error' && this.listenerCount('error') === 0) return false;
    return super.emit(event, ...args);
  }
}

/**
 * Makes `pg.Client` itself the resilient class. BullMQ's PostgreSQL backend opens its LISTEN
 * connection with `new pg.Client(...)` (no way to pass a class) and drops its own error listener
 * while tearing that connection down, so a server that ends the session at that moment would crash
 * the process. Idempotent.
 */
export function useResilientPgClients(): void {
  if (pg.Client !== ResilientClient && !(pg.Client.prototype instanceof ResilientClient)) {
    (pg as { Client: typeof pg.Client }).Client = ResilientClient;
  }
}
