import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { InProcessConversationLocks } from '../../src/db/in-process-conversation-locks.js';

// tryAcquire never touches the database; acquireFor is covered on the embedded database (test/integration/embedded-database.test.ts).
const noDatabase = {} as pg.Pool;

describe('in-process conversation locks (embedded database)', () => {
  it('lets one turn hold a conversation; another gets it once released, and other conversations meanwhile', async () => {
    const locks = new InProcessConversationLocks(noDatabase, { waitMs: 20 });
    const first = await locks.tryAcquire('conversation-a', 'creator', 4);
    expect(first).not.toBeNull();
    expect(await locks.tryAcquire('conversation-a', 'creator', 4)).toBeNull();
    const other = await locks.tryAcquire('conversation-b', 'creator', 4);
    expect(other).not.toBeNull();
    await first!.release();
    expect(await locks.tryAcquire('conversation-a', 'creator', 4)).not.toBeNull();
  });

  it('hands a conversation to a turn waiting for it when the holder releases within the wait', async () => {
    const locks = new InProcessConversationLocks(noDatabase, { waitMs: 10_000 });
    const holder = await locks.tryAcquire('conversation', 'creator', 4);
    const waiting = locks.tryAcquire('conversation', 'creator', 4);
    await holder!.release();
    const next = await waiting;
    expect(next).not.toBeNull();
    // Handed over, not freed: a third caller waits for the new holder.
    const third = locks.tryAcquire('conversation', 'creator', 4);
    await next!.release();
    expect(await third).not.toBeNull();
  });

  it("caps a creator's turns at their slots and frees the conversation of a turn turned away", async () => {
    const locks = new InProcessConversationLocks(noDatabase, { waitMs: 20 });
    const a = await locks.tryAcquire('a', 'busy-creator', 2);
    const b = await locks.tryAcquire('b', 'busy-creator', 2);
    expect(a && b).toBeTruthy();
    expect(await locks.tryAcquire('c', 'busy-creator', 2)).toBeNull();
    expect(await locks.tryAcquire('e', 'other-creator', 2)).not.toBeNull();
    await a!.release();
    await a!.release(); // a second release changes nothing
    expect(await locks.tryAcquire('c', 'busy-creator', 2)).not.toBeNull();
    expect(await locks.tryAcquire('d', 'busy-creator', 2)).toBeNull();
  });
});
