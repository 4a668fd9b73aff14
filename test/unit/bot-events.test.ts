/**
 * The pieces behind the live events stream that need no services: stream tickets (signed, bot-bound,
 * short-lived), the hub's resend-or-reset after a reconnection and its per-creator cap, and a
 * publisher whose transport fails without failing the step that published.
 */
import { describe, expect, it } from 'vitest';
import { BotEventBus } from '../../src/events/bot-event.bus.js';
import { BotEventHub } from '../../src/events/bot-event.hub.js';
import type { BotEvent } from '../../src/events/bot-event.types.js';
import { StreamTickets } from '../../src/events/stream-ticket.js';
import { InProcessTopicBus } from '../../src/pubsub/in-process.topic-bus.js';
import type { TopicBus } from '../../src/pubsub/topic-bus.js';
import { waitFor } from '../support/wait-for.js';

const SECRET = 'a-secret-of-at-least-thirty-two-characters';

describe('stream tickets', () => {
  it('stand for their creator on their bot until they expire', () => {
    let now = 1_000_000;
    const tickets = new StreamTickets(SECRET, 60_000, () => now);
    const { ticket, expiresAt } = tickets.issue({ creatorId: 'creator-1', botId: 'bot-1', credential: 'session:s1:0' });
    expect(expiresAt.getTime()).toBe(1_060_000);
    expect(tickets.verify(ticket, 'bot-1')).toEqual({ creatorId: 'creator-1', credential: 'session:s1:0' });
    expect(tickets.verify(ticket, 'bot-2')).toBeNull();
    now += 59_999;
    expect(tickets.verify(ticket, 'bot-1')).toEqual({ creatorId: 'creator-1', credential: 'session:s1:0' });
    now += 1;
    expect(tickets.verify(ticket, 'bot-1')).toBeNull();
  });

  it('are refused when signed with another secret, or malformed', () => {
    const mine = new StreamTickets(SECRET, 60_000);
    const theirs = new StreamTickets(`${SECRET}-other`, 60_000);
    const { ticket } = theirs.issue({ creatorId: 'creator-1', botId: 'bot-1', credential: 'key:k1' });
    expect(mine.verify(ticket, 'bot-1')).toBeNull();
    for (const bad of ['', '.', 'abc', 'a.b.c', `${ticket}.x`]) expect(mine.verify(bad, 'bot-1')).toBeNull();
  });
});

/** A hub over an in-process bus where every bot belongs to `owner`. */
function hubFor(options: { maxStreamsPerCreator?: number; keepEvents?: number } = {}) {
  const topics = new InProcessTopicBus();
  const bus = new BotEventBus(topics, () => undefined);
  const hub = new BotEventHub(bus, {
    authorize: async (creatorId) => {
      if (creatorId !== 'owner') throw new Error('not found');
    },
    maxStreamsPerCreator: options.maxStreamsPerCreator ?? 10,
    keepEvents: options.keepEvents ?? 100,
    keepMs: 60_000,
  });
  return { bus, hub };
}

const documentEvent = (n: number) => ({ type: 'document' as const, documentId: `d${n}`, status: 'ready' as const, at: new Date(0).toISOString() });

describe('the event hub', () => {
  it('resends the events after a known Last-Event-ID, and resets for one it does not hold (or no longer holds)', async () => {
    const { bus, hub } = hubFor({ keepEvents: 3 });
    const first = await hub.open('owner', 'bot');
    const seen: BotEvent[] = [];
    first.listen((e) => seen.push(e), () => undefined);
    for (let i = 1; i <= 3; i++) bus.publish('bot', documentEvent(i));
    await waitFor(() => seen.length === 3);
    first.close();

    const resumed = await hub.open('owner', 'bot', seen[0]!.eventId);
    expect(resumed.reset).toBeNull();
    expect(resumed.replay).toEqual(seen.slice(1));
    resumed.close();

    bus.publish('bot', documentEvent(4));
    await bus.flushed();
    // Only three are kept: the first has gone, so the client must refetch.
    const tooOld = await hub.open('owner', 'bot', seen[0]!.eventId);
    expect(tooOld).toEqual(expect.objectContaining({ replay: [], reset: 'unknown_last_event' }));
    tooOld.close();
    await hub.close();
  });

  it('caps one creator’s open streams, freeing a slot when one closes, and opens none for another creator’s bot', async () => {
    const { hub } = hubFor({ maxStreamsPerCreator: 2 });
    const a = await hub.open('owner', 'bot');
    await hub.open('owner', 'bot-2');
    await expect(hub.open('owner', 'bot')).rejects.toMatchObject({ code: 'TOO_MANY_STREAMS', status: 429 });
    a.close();
    await hub.open('owner', 'bot');
    await expect(hub.open('someone-else', 'bot')).rejects.toThrow('not found');
    expect(hub.openStreams()).toBe(2);
    await hub.close();
  });

  it('ends every stream on shutdown', async () => {
    const { hub } = hubFor();
    const stream = await hub.open('owner', 'bot');
    let ended = false;
    stream.listen(() => undefined, () => (ended = true));
    await hub.close();
    expect(ended).toBe(true);
    await expect(hub.open('owner', 'bot')).rejects.toMatchObject({ status: 503 });
  });
});

describe('publishing', () => {
  it('never throws or waits when the transport fails: the failure is reported and later events still go out', async () => {
    const delivered: unknown[] = [];
    let failing = true;
    const topics: TopicBus = {
      publish: async (_topic, payload) => {
        if (failing) throw new Error('connection refused');
        delivered.push(payload);
      },
      subscribe: async () => async () => undefined,
      close: async () => undefined,
    };
    const reported: string[] = [];
    const bus = new BotEventBus(topics, (err, what) => reported.push(`${what}: ${(err as Error).message}`));
    expect(bus.publish('bot', documentEvent(1))).toBeUndefined();
    await bus.flushed();
    expect(reported).toEqual(['bot event document not published: connection refused']);
    failing = false;
    bus.publish('bot', documentEvent(2));
    bus.publish('bot', documentEvent(3));
    await bus.flushed();
    expect(delivered.map((e) => (e as { documentId: string }).documentId)).toEqual(['d2', 'd3']);
  });
});
