import { describe, expect, it } from 'vitest';
import { DEFAULT_QUIET_HOURS } from '../../src/coaching/local-time.js';
import type { CoachingContact, ContactGate, ProactiveSend, ProactiveStore, ScheduleInput } from '../../src/coaching/proactive.ports.js';
import { ProactiveService, SKIP_REASONS, type ProactiveContent } from '../../src/coaching/proactive.service.js';
import { RecipientBlockedError, type ChannelName, type ChannelSender, type OutboundMessage } from '../../src/conversation/channel.ports.js';
import type { OutboundRecord } from '../../src/conversation/turn.ports.js';

/** The store's contract kept in memory (the PostgreSQL one is exercised by the end-to-end tests). */
class MemoryStore implements ProactiveStore {
  sends = new Map<string, ProactiveSend>();
  ledger = new Map<string, OutboundRecord & { key: string; updatedAt: number; messageIds: string[] }>();
  gate: ContactGate = { blocked: false, optedOut: false, forgottenAt: null };
  channel: ChannelName = 'telegram';
  /** Conversations a person has taken over. */
  takenOverConversations = new Set<string>();
  private next = 1;

  async schedule(input: ScheduleInput): Promise<ProactiveSend> {
    const existing = [...this.sends.values()].find((s) => s.effectKey === input.effectKey);
    if (existing && existing.status !== 'cancelled') return existing;
    const send: ProactiveSend = {
      id: existing?.id ?? `send-${this.next++}`,
      botId: input.botId,
      contactId: input.contactId,
      conversationId: input.conversationId,
      channel: this.channel,
      externalChatId: '42',
      effectKey: input.effectKey,
      kind: input.kind,
      dueAt: input.dueAt,
      message: input.message ?? null,
      status: 'scheduled',
      reason: null,
      createdAt: new Date(now.getTime()),
    };
    this.sends.set(send.id, send);
    return send;
  }
  async find(id: string) {
    const s = this.sends.get(id);
    return s ? { ...s } : null;
  }
  async moveDue(id: string, dueAt: Date) {
    const s = this.sends.get(id);
    if (s?.status === 'scheduled') s.dueAt = dueAt;
  }
  async settle(id: string, status: Exclude<ProactiveSend['status'], 'scheduled'>, reason: string | null) {
    const s = this.sends.get(id);
    if (s?.status !== 'scheduled') return false;
    Object.assign(s, { status, reason });
    return true;
  }
  async cancelByPrefix() {
    return 0;
  }
  async due() {
    return [];
  }
  async whileHeld<T>(_contactId: string, work: (gate: ContactGate) => Promise<T>) {
    return work({ ...this.gate });
  }
  async openLedger(send: Pick<ProactiveSend, 'effectKey'>) {
    let row = this.ledger.get(send.effectKey);
    if (!row) {
      row = { id: `ledger-${send.effectKey}`, key: send.effectKey, status: 'pending', text: null, updatedAt: now.getTime(), messageIds: [] };
      this.ledger.set(send.effectKey, row);
    }
    return { id: row.id, status: row.status, text: row.text };
  }
  private row(id: string) {
    return [...this.ledger.values()].find((r) => r.id === id)!;
  }
  async claimLedger(id: string, text: string, _staleMs: number, options: { unlessTakenOver?: boolean } = {}) {
    const row = this.row(id);
    const send = [...this.sends.values()].find((s) => s.effectKey === row.key)!;
    if (options.unlessTakenOver && this.takenOverConversations.has(send.conversationId) && row.status === 'pending') {
      this.ledger.delete(row.key);
      return 'taken_over' as const;
    }
    if (row.status !== 'pending') return 'busy' as const;
    Object.assign(row, { status: 'sending', text });
    return 'claimed' as const;
  }
  async takenOver(conversationId: string) {
    return this.takenOverConversations.has(conversationId);
  }
  async hold(id: string, reason: string) {
    const s = this.sends.get(id)!;
    Object.assign(s, { heldAt: s.heldAt ?? now, reason });
  }
  private held(conversationId: string) {
    return [...this.sends.values()]
      .filter((s) => s.conversationId === conversationId && s.status === 'scheduled' && s.heldAt)
      .sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || a.id.localeCompare(b.id));
  }
  async heldBefore(send: Pick<ProactiveSend, 'id' | 'conversationId' | 'dueAt'>) {
    return this.held(send.conversationId).some((s) => s.id !== send.id && (s.dueAt.getTime() < send.dueAt.getTime() || (s.dueAt.getTime() === send.dueAt.getTime() && s.id < send.id)));
  }
  async heldSends(conversationId: string) {
    return this.held(conversationId).map((s) => ({ id: s.id, botId: s.botId }));
  }
  async releaseLedger(id: string) {
    this.row(id).status = 'pending';
  }
  async markSent(id: string, messageIds: string[]) {
    Object.assign(this.row(id), { status: 'sent', messageIds });
  }
  async markFailed(id: string) {
    this.row(id).status = 'failed';
  }
  async recipientOfSent() {
    return null;
  }
}

class RecordingSender implements ChannelSender {
  readonly channel = 'telegram' as const;
  sent: OutboundMessage[] = [];
  fail?: Error;
  /** Resolves sends only when released, to overlap two attempts. */
  hold?: Promise<void>;
  async sendText(_to: string, message: OutboundMessage) {
    await this.hold;
    if (this.fail) throw this.fail;
    this.sent.push(message);
    return { messageIds: [String(this.sent.length)] };
  }
  async streamText(): Promise<never> {
    throw new Error('not used');
  }
  async sendTyping() {}
  async answerCallback() {}
}

let now = new Date('2026-06-01T12:00:00Z');

function setUp(options: { contact?: Partial<CoachingContact>; sender?: RecordingSender | null } = {}) {
  const store = new MemoryStore();
  const sender = options.sender === undefined ? new RecordingSender() : options.sender;
  const blocked: string[] = [];
  const contact: CoachingContact = { id: 'c1', botId: 'b1', channel: 'telegram', externalId: '42', timeZone: 'Europe/Paris', timeZoneSource: 'user', optedOut: false, ...options.contact };
  const stepContent: ProactiveContent = { respectsQuietHours: true, duringTakeover: 'hold', message: async () => ({ message: { text: 'step' } }) };
  const woken: string[] = [];
  const service = new ProactiveService({
    store,
    queue: { schedule: async () => undefined, ensureDue: async (id) => (woken.push(id), true) },
    contacts: {
      ofConversation: async () => contact,
      findContact: async () => contact,
      latestConversation: async () => 'conv1',
      setTimeZone: async (_id, zone) => void (contact.timeZone = zone),
      setOptedOut: async () => undefined,
    },
    settings: { quietHours: async () => DEFAULT_QUIET_HOURS },
    senders: { sender: async () => sender },
    blocked: { setBlocked: async (conversationId) => void blocked.push(conversationId) },
    clock: () => now,
    contents: {
      reminder: { respectsQuietHours: false, duringTakeover: 'hold', message: async (s) => ({ message: s.message! }) },
      broadcast: { respectsQuietHours: false, duringTakeover: 'skip', message: async (s) => ({ message: s.message! }) },
      creator_message: { respectsQuietHours: false, duringTakeover: 'send', message: async (s) => ({ message: s.message! }) },
      program_step: stepContent,
    },
  });
  const schedule = (kind: 'reminder' | 'program_step' | 'broadcast' | 'creator_message' = 'reminder', key = 'reminder:1', dueAt = now, text = 'stretch') =>
    service.schedule({ botId: 'b1', contactId: 'c1', conversationId: 'conv1', effectKey: key, kind, dueAt, message: { text } });
  return { store, sender, service, schedule, blocked, contact, woken };
}

describe('proactive delivery', () => {
  it('sends a due message once, however often it is delivered, and two overlapping attempts send it once', async () => {
    const { service, schedule, sender, store } = setUp();
    const send = await schedule();
    let release!: () => void;
    sender!.hold = new Promise<void>((resolve) => (release = resolve));
    const first = service.deliver(send.id);
    const second = service.deliver(send.id);
    release();
    expect((await Promise.all([first, second])).map((r) => r.outcome).sort()).toEqual(['busy', 'settled']);
    expect(await service.deliver(send.id)).toMatchObject({ outcome: 'settled', settled: { status: 'sent' } });
    expect(sender!.sent).toEqual([{ text: 'stretch' }]);
    expect(store.ledger.get('reminder:1')).toMatchObject({ status: 'sent', messageIds: ['1'] });
  });

  it('waits until due, and a program step in the quiet hours waits for their end in the contact\'s zone', async () => {
    const { service, schedule, sender, contact } = setUp();
    const later = await schedule('reminder', 'reminder:2', new Date(now.getTime() + 60_000));
    expect(await service.deliver(later.id)).toEqual({ outcome: 'not_due', waitMs: 60_000 });
    // 23:30 in Paris: the step is moved to 08:00 Paris (06:00 UTC) when scheduled…
    const step = await schedule('program_step', 'program:e:0', new Date('2026-06-01T21:30:00Z'));
    expect(step.dueAt.toISOString()).toBe('2026-06-02T06:00:00.000Z');
    // …and when the contact has moved to New York meanwhile (02:00 there at send time), again at send time.
    contact.timeZone = 'America/New_York';
    now = new Date('2026-06-02T06:00:00Z');
    expect(await service.deliver(step.id)).toEqual({ outcome: 'not_due', waitMs: 6 * 3600_000 });
    expect(sender!.sent).toEqual([]);
    now = new Date('2026-06-01T12:00:00Z');
  });

  it('skips with the reason for opted-out, forgotten and blocked contacts and a disconnected channel, and sends to web chat', async () => {
    const optedOut = setUp();
    optedOut.store.gate.optedOut = true;
    const a = await optedOut.schedule();
    expect(await optedOut.service.deliver(a.id)).toMatchObject({ settled: { status: 'skipped', reason: SKIP_REASONS.optedOut } });
    expect(optedOut.store.ledger.size).toBe(0);

    const forgotten = setUp();
    const b = await forgotten.schedule();
    forgotten.store.gate.forgottenAt = new Date(b.createdAt.getTime() + 1);
    expect(await forgotten.service.deliver(b.id)).toMatchObject({ settled: { status: 'skipped', reason: SKIP_REASONS.forgotten } });

    const web = setUp();
    web.store.channel = 'web';
    const c = await web.schedule();
    // The visitor's open page gets it on its stream, and its history keeps it.
    expect(await web.service.deliver(c.id)).toMatchObject({ settled: { status: 'sent' } });
    expect(web.sender!.sent).toHaveLength(1);

    const disconnected = setUp({ sender: null });
    const d = await disconnected.schedule();
    expect(await disconnected.service.deliver(d.id)).toMatchObject({ settled: { status: 'skipped', reason: 'The telegram channel is not connected' } });

    const blocked = setUp();
    blocked.sender!.fail = new RecipientBlockedError('telegram', 'blocked', 'Forbidden: bot was blocked by the user');
    const e = await blocked.schedule();
    expect(await blocked.service.deliver(e.id)).toMatchObject({ settled: { status: 'skipped', contactUnreachable: true } });
    expect(blocked.blocked).toEqual(['conv1']);
    expect(blocked.store.ledger.get('reminder:1')?.status).toBe('failed');
  });

  it('gives a failed attempt back to the next one, and guesses a WhatsApp contact\'s zone from the number', async () => {
    const { service, schedule, sender, store } = setUp();
    const send = await schedule();
    sender!.fail = new Error('connection reset');
    await expect(service.deliver(send.id)).rejects.toThrow('connection reset');
    expect(store.ledger.get('reminder:1')?.status).toBe('pending');
    delete sender!.fail;
    expect(await service.deliver(send.id)).toMatchObject({ settled: { status: 'sent' } });

    const wa = setUp({ contact: { channel: 'whatsapp', externalId: '4915112345678', timeZone: null, timeZoneSource: null } });
    expect(await wa.service.zoneOf(wa.contact)).toBe('Europe/Berlin');
    expect(wa.contact.timeZone).toBe('Europe/Berlin');
  });

  it('while a person has the conversation, holds reminders, skips broadcasts and sends the person\'s own words; after the release the held ones go in order', async () => {
    const { service, schedule, sender, store, woken } = setUp();
    store.takenOverConversations.add('conv1');
    const first = await schedule('reminder', 'reminder:a', new Date(now.getTime() - 2000), 'first');
    const second = await schedule('reminder', 'reminder:b', new Date(now.getTime() - 1000), 'second');
    const broadcast = await schedule('broadcast', 'broadcast:x:1', now, 'news');
    const creator = await schedule('creator_message', 'creator:conv1:1', now, 'Maya here');
    expect(await service.deliver(second.id)).toEqual({ outcome: 'held' });
    expect(await service.deliver(first.id)).toEqual({ outcome: 'held' });
    expect(await service.deliver(broadcast.id)).toMatchObject({ settled: { status: 'skipped', reason: SKIP_REASONS.takenOver } });
    expect(await service.deliver(creator.id)).toMatchObject({ settled: { status: 'sent' } });
    expect(sender!.sent.map((m) => m.text)).toEqual(['Maya here']);
    expect(store.ledger.has('reminder:a')).toBe(false);
    expect((await store.find(first.id))?.status).toBe('scheduled');

    store.takenOverConversations.delete('conv1');
    await service.resume(['conv1']);
    expect(woken).toEqual([first.id, second.id]);
    // The later one waits for the earlier, which wakes it once sent.
    expect(await service.deliver(second.id)).toEqual({ outcome: 'busy' });
    expect(await service.deliver(first.id)).toMatchObject({ settled: { status: 'sent' } });
    expect(woken.at(-1)).toBe(second.id);
    expect(await service.deliver(second.id)).toMatchObject({ settled: { status: 'sent' } });
    expect(await service.deliver(second.id)).toMatchObject({ settled: { status: 'sent' } });
    expect(sender!.sent.map((m) => m.text)).toEqual(['Maya here', 'first', 'second']);
  });

  it('a takeover stored between the plain read and the claim still holds the send', async () => {
    const { service, schedule, sender, store } = setUp();
    const send = await schedule();
    const claim = store.claimLedger.bind(store);
    store.claimLedger = async (...args) => {
      store.takenOverConversations.add('conv1');
      return claim(...args);
    };
    expect(await service.deliver(send.id)).toEqual({ outcome: 'held' });
    expect(sender!.sent).toEqual([]);
    expect(store.ledger.size).toBe(0);
  });
});
