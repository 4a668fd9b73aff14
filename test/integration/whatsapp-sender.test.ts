import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WhatsAppClient } from '../../channels/whatsapp/whatsapp.client.js';
import { MediaTooLargeError, WhatsAppRequestError, WindowClosedError } from '../../channels/whatsapp/whatsapp.errors.js';
import { messageIdsSentBefore, WhatsAppSender } from '../../channels/whatsapp/whatsapp.outbound.js';
import { WhatsAppPacer, type Clock } from '../../channels/whatsapp/whatsapp.pacing.js';
import { ValidationError } from '../../src/errors/app.errors.js';
import { undiciFetch } from '../../src/http-client/undici-fetch.js';
import { ChannelAuthError, ChannelRequestError } from '../../src/conversation/channel.ports.js';
import { fixture } from '../support/fixtures.js';
import { startFakeWhatsApp, type FakeWhatsApp } from '../support/fake-whatsapp.js';
import { waitFor } from '../support/wait-for.js';

const PHONE = '1122334455667';
const ANA = '15550001';
const BEN = '15550002';

/**
 * Virtual time: `sleep` queues a timer and time jumps straight to the earliest one, so pacing and
 * back-off behave as in real time (order, gaps) without the test waiting for them.
 */
class VirtualClock implements Clock {
  time = 0;
  readonly sleeps: number[] = [];
  private timers: Array<{ at: number; resolve: () => void }> = [];
  private scheduled = false;

  now = () => this.time;

  sleep = (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    return new Promise((resolve) => {
      this.timers.push({ at: this.time + ms, resolve });
      this.schedule();
    });
  };

  private schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers.shift();
      if (!next) return;
      this.time = Math.max(this.time, next.at);
      next.resolve();
      if (this.timers.length > 0) this.schedule();
    });
  }
}

let fake: FakeWhatsApp;
let clock: VirtualClock;
/** Sends as they leave the client, stamped with virtual time (the fake's receipt time can lag behind). */
let issued: Array<{ at: number; to: string; text?: string }> = [];

/** The client's own default fetch (the lean undici one), recording what it sends. */
const recordingFetch: typeof fetch = (input, init) => {
  if (typeof init?.body === 'string') {
    const body = JSON.parse(init.body) as { to?: string; text?: { body: string } };
    if (body.to) issued.push({ at: clock.now(), to: body.to, ...(body.text ? { text: body.text.body } : {}) });
  }
  return undiciFetch(input, init);
};

/** When each text last left the client (its successful attempt). */
function issuedAt(text: string): number {
  return issued.filter((i) => i.text === text).at(-1)!.at;
}

function setup(options: { messagesPerSecond?: number; recipientGapMs?: number; accessToken?: string; maxMediaBytes?: number } = {}) {
  const pacer = new WhatsAppPacer({ clock, messagesPerSecond: options.messagesPerSecond ?? 80, recipientGapMs: options.recipientGapMs ?? 1000 });
  const client = new WhatsAppClient({
    accessToken: options.accessToken ?? fake.accessToken,
    graphUrl: fake.url,
    pacer,
    retry: { attempts: 2, baseDelayMs: 1000, pairBaseDelayMs: 6000 },
    fetch: recordingFetch,
    ...(options.maxMediaBytes ? { maxMediaBytes: options.maxMediaBytes } : {}),
  });
  return { client, sender: new WhatsAppSender(client, PHONE) };
}

beforeAll(async () => {
  clock = new VirtualClock();
  fake = await startFakeWhatsApp();
});

afterEach(() => {
  fake.sent.length = 0;
  fake.reads.length = 0;
  fake.requests.length = 0;
  fake.downloads.length = 0;
  clock.sleeps.length = 0;
  issued = [];
});

afterAll(async () => {
  await fake.close();
});

describe('WhatsAppSender through whatsapp-api-js against a fake Graph API', () => {
  it('delivers a short reply as one text message and returns its wamid', async () => {
    const { sender } = setup();
    const result = await sender.sendText(ANA, { text: 'Drink a glass of water **before** breakfast.', citations: ['Habits 101', 'Week 2'] });
    const [message] = fake.sentTo(ANA);
    expect(result.messageIds).toEqual([message!.id]);
    expect(message!.id).toMatch(/^wamid\./);
    expect(message!.request).toMatchObject({ messaging_product: 'whatsapp', to: ANA, type: 'text' });
    expect(message!.text).toBe('Drink a glass of water *before* breakfast.\n\n_Sources: Habits 101; Week 2_');
  });

  it('splits a long reply into messages of at most 4,096 characters at paragraph boundaries, in order', async () => {
    const { sender } = setup();
    const paragraphs = Array.from({ length: 9 }, (_, i) => `Paragraph ${i + 1}: ${'steady progress beats intensity. '.repeat(40).trim()}`);
    const text = paragraphs.join('\n\n');
    expect(text.length).toBeGreaterThan(2 * 4096);
    const result = await sender.sendText(ANA, { text });
    const texts = fake.sentTo(ANA).map((m) => m.text!);
    expect(texts.length).toBe(3);
    expect(result.messageIds).toEqual(fake.sentTo(ANA).map((m) => m.id));
    for (const part of texts) {
      expect(part.length).toBeLessThanOrEqual(4096);
      expect(part.startsWith('Paragraph ')).toBe(true);
      expect(part.endsWith('intensity.')).toBe(true);
    }
    expect(texts.join('\n\n')).toBe(text);
  });

  it('splits text without any break (emoji) without tearing a character in two', async () => {
    const { sender } = setup();
    // One ASCII character first, so a naive cut at 4,096 code units would land inside an emoji.
    const text = `a${'👍'.repeat(3000)}`;
    await sender.sendText(ANA, text);
    const texts = fake.sentTo(ANA).map((m) => m.text!);
    expect(texts).toHaveLength(2);
    for (const part of texts) {
      expect(part.length).toBeLessThanOrEqual(4096);
      expect(part).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    }
    expect(texts.join('')).toBe(text);
  });

  it('sends up to three choices as reply buttons under the last part, in Graph’s shape', async () => {
    const { sender } = setup();
    await sender.sendText(ANA, {
      text: 'Ready for today’s check-in?',
      buttons: [
        { id: 'checkin:yes', title: 'Yes' },
        { id: 'checkin:later', title: 'Remind me in an hour please' },
      ],
    });
    const [message] = fake.sentTo(ANA);
    expect(message!.request).toMatchObject({
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: 'Ready for today’s check-in?' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'checkin:yes', title: 'Yes' } },
            { type: 'reply', reply: { id: 'checkin:later', title: 'Remind me in an hou…' } },
          ],
        },
      },
    });
  });

  it('turns more than three choices into a list message', async () => {
    const { sender } = setup();
    const buttons = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'].map((d) => ({ id: `day:${d}`, title: d }));
    await sender.sendText(ANA, { text: 'Which day suits you?', buttons });
    const [message] = fake.sentTo(ANA);
    expect(message!.request).toMatchObject({
      type: 'interactive',
      interactive: { type: 'list', body: { text: 'Which day suits you?' }, action: { button: 'Options', sections: [{ rows: buttons.map((b) => ({ id: b.id, title: b.title })) }] } },
    });
  });

  it('sends an explicit buttons message and list message, and refuses what Graph would reject', async () => {
    const { sender } = setup();
    await sender.sendButtons(ANA, 'Pick one', [{ id: 'a', title: 'A' }], { header: 'Plan', footer: 'Coach' });
    await sender.sendList(ANA, {
      body: 'Programs',
      button: 'See programs',
      sections: [
        { title: 'Beginner', rows: [{ id: 'p1', title: 'Couch to 5k', description: 'Nine weeks' }] },
        { title: 'Advanced', rows: [{ id: 'p2', title: 'Half marathon' }] },
      ],
    });
    const [buttons, list] = fake.sentTo(ANA);
    expect(buttons!.request.interactive).toMatchObject({ header: { type: 'text', text: 'Plan' }, footer: { text: 'Coach' } });
    expect(list!.request.interactive).toMatchObject({
      type: 'list',
      action: { button: 'See programs', sections: [{ title: 'Beginner', rows: [{ id: 'p1', title: 'Couch to 5k', description: 'Nine weeks' }] }, { title: 'Advanced' }] },
    });
    const four = ['1', '2', '3', '4'].map((id) => ({ id, title: id }));
    await expect(sender.sendButtons(ANA, 'Too many', four)).rejects.toBeInstanceOf(ValidationError);
    await expect(sender.sendButtons(ANA, 'Too long', [{ id: 'x', title: 'A title far over twenty' }])).rejects.toBeInstanceOf(ValidationError);
    await expect(sender.sendText(ANA, { text: '   ' })).rejects.toBeInstanceOf(ValidationError);
    expect(fake.sentTo(ANA)).toHaveLength(2);
  });

  it('sends a template with its body parameters', async () => {
    const { sender } = setup();
    await sender.sendTemplate(ANA, 'checkin_reminder', 'en_US', ['Ana', 'Week 3']);
    expect(fake.sentTo(ANA)[0]!.request).toMatchObject({
      type: 'template',
      template: {
        name: 'checkin_reminder',
        language: { code: 'en_US', policy: 'deterministic' },
        components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }, { type: 'text', text: 'Week 3' }] }],
      },
    });
  });

  it('marks a message read and shows the typing indicator', async () => {
    const { sender } = setup();
    await sender.markRead('wamid.in1');
    await sender.sendTyping(ANA, 'wamid.in2');
    await sender.sendTyping(ANA);
    expect(fake.reads).toEqual([
      { phoneNumberId: PHONE, messageId: 'wamid.in1' },
      { phoneNumberId: PHONE, messageId: 'wamid.in2', typingIndicator: 'text' },
    ]);
  });

  it('waits out a throughput limit (130429) and retries once', async () => {
    const { sender } = setup();
    fake.failNext(1, 130429);
    const result = await sender.sendText(ANA, { text: 'Hello again' });
    expect(fake.requests.filter((r) => r.kind === 'send').map((r) => r.status)).toEqual([400, 200]);
    expect(fake.sentTo(ANA).map((m) => m.text)).toEqual(['Hello again']);
    expect(result.messageIds).toEqual([fake.sentTo(ANA)[0]!.id]);
    expect(clock.sleeps).toContain(1000);
  });

  it('backs off longer after a pair rate limit (131056) and gives up, retryable, when it persists', async () => {
    const { sender } = setup();
    fake.failNext(3, 131056);
    const error = await sender.sendText(ANA, { text: 'Too fast' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(WhatsAppRequestError);
    expect(error).toMatchObject({ errorCode: 131056, retryable: true });
    expect(clock.sleeps).toEqual(expect.arrayContaining([6000, 12000]));
    expect(fake.sentTo(ANA)).toEqual([]);
  });

  it('reports a closed 24-hour window (131047) as WindowClosedError, so the caller can send a template', async () => {
    const { sender } = setup();
    fake.failNext(1, 131047);
    const error = await sender.sendText(ANA, { text: 'Are you still there?' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(WindowClosedError);
    expect(error).toBeInstanceOf(ChannelRequestError);
    expect(error).toMatchObject({ errorCode: 131047, retryable: false });
    expect((error as Error).message).toContain('Re-engagement message');
    expect(fake.requests.filter((r) => r.kind === 'send')).toHaveLength(1);
    await sender.sendTemplate(ANA, 'we_miss_you', 'en');
    expect(fake.sentTo(ANA).map((m) => m.type)).toEqual(['template']);
  });

  it('reports an expired or invalid token (190) as ChannelAuthError, injected or real', async () => {
    const { sender } = setup();
    fake.failNext(1, 190);
    await expect(sender.sendText(ANA, { text: 'hi' })).rejects.toBeInstanceOf(ChannelAuthError);
    const wrongToken = setup({ accessToken: 'EAAG-revoked' }).sender;
    const error = await wrongToken.sendText(ANA, { text: 'hi' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ChannelAuthError);
    expect((error as Error).message).toContain('Invalid OAuth access token');
    expect(fake.sent).toEqual([]);
  });

  it('reports other refusals (131026) as a non-retryable ChannelRequestError with code and title', async () => {
    const { sender } = setup();
    fake.failNext(1, 131026);
    const error = await sender.sendText(ANA, { text: 'hi' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ChannelRequestError);
    expect(error).toMatchObject({ errorCode: 131026, retryable: false, description: 'Message undeliverable: Unable to deliver message.' });
    expect((error as WhatsAppRequestError).fbtraceId).toEqual(expect.any(String));
  });

  it('tells the caller which parts of a split reply were already delivered when a later part fails', async () => {
    const { sender } = setup();
    const text = `${'a'.repeat(4000)}\n\n${'b'.repeat(100)}`;
    const first = sender.sendText(ANA, { text });
    await fake.waitForMessages(1, { to: ANA });
    fake.failNext(1, 131026);
    const error = await first.catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ChannelRequestError);
    expect(messageIdsSentBefore(error)).toEqual([fake.sentTo(ANA)[0]!.id]);
  });

  it('keeps each recipient’s messages in order and spaced, even when one is retried', async () => {
    const { sender } = setup({ recipientGapMs: 1000 });
    fake.failNext(1, 130429);
    await Promise.all([
      sender.sendText(ANA, { text: 'ana 1' }),
      sender.sendText(BEN, { text: 'ben 1' }),
      sender.sendText(ANA, { text: 'ana 2' }),
      sender.sendText(BEN, { text: 'ben 2' }),
      sender.sendText(ANA, { text: 'ana 3' }),
    ]);
    expect(fake.sentTo(ANA).map((m) => m.text)).toEqual(['ana 1', 'ana 2', 'ana 3']);
    expect(fake.sentTo(BEN).map((m) => m.text)).toEqual(['ben 1', 'ben 2']);
    expect(issuedAt('ana 2') - issuedAt('ana 1')).toBeGreaterThanOrEqual(1000);
    expect(issuedAt('ana 3') - issuedAt('ana 2')).toBeGreaterThanOrEqual(1000);
    expect(issuedAt('ben 2') - issuedAt('ben 1')).toBeGreaterThanOrEqual(1000);
    // Ben is not held up by Ana's back-off: his first message leaves before her retried first one.
    expect(issuedAt('ana 1')).toBeGreaterThanOrEqual(1000);
    expect(issuedAt('ben 1')).toBeLessThan(issuedAt('ana 1'));
  });

  it('caps throughput per phone number', async () => {
    const { sender } = setup({ messagesPerSecond: 4, recipientGapMs: 0 });
    const users = Array.from({ length: 8 }, (_, i) => `1555010${i}`);
    await Promise.all(users.map((u) => sender.sendText(u, { text: `hi ${u}` })));
    expect(fake.sent).toHaveLength(8);
    const times = issued.map((i) => i.at).sort((a, b) => a - b);
    expect(times).toHaveLength(8);
    // 4 a second: eight messages take at least 1.75 s, and no second holds more than four.
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(1750);
    for (let i = 4; i < times.length; i++) expect(times[i]! - times[i - 4]!).toBeGreaterThanOrEqual(1000);
  });
});

describe('media download', () => {
  it('returns the bytes and mime type of a file a user sent', async () => {
    const { sender } = setup();
    const pdf = fixture('docs/pdfjs__tracemonkey.pdf');
    const mediaId = fake.addMedia(pdf, 'application/pdf');
    const media = await sender.downloadMedia(mediaId);
    expect(media.mimeType).toBe('application/pdf');
    expect(media.bytes.equals(pdf)).toBe(true);
    expect(media.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(fake.requests.map((r) => [r.kind, r.status])).toEqual([
      ['media-info', 200],
      ['media-download', 200],
    ]);
  });

  it('refuses a file whose reported size is over the limit without downloading it', async () => {
    const { sender } = setup();
    const mediaId = fake.addMedia(randomBytes(64 * 1024), 'image/jpeg');
    const error = await sender.downloadMedia(mediaId, { maxBytes: 16 * 1024 }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(MediaTooLargeError);
    expect(error).toMatchObject({ code: 'MEDIA_TOO_LARGE', details: { limitBytes: 16 * 1024, sizeBytes: 64 * 1024 } });
    expect(fake.downloads).toEqual([]);
  });

  it('aborts a download that grows past the limit even when the size was misreported', async () => {
    const { client } = setup({ maxMediaBytes: 256 * 1024 });
    const mediaId = fake.addMedia(randomBytes(16 * 1024 * 1024), 'video/mp4', { reportedSize: 1000, chunked: true });
    await expect(client.downloadMedia(mediaId)).rejects.toBeInstanceOf(MediaTooLargeError);
    const [transfer] = await waitFor(() => (fake.downloads[0]?.closed ? fake.downloads : undefined), { what: 'the fake to see the download end' });
    expect(transfer!.finished).toBe(false);
  });

  it('refuses a download whose declared length is over the limit, and goes on downloading after it', async () => {
    const { client } = setup({ maxMediaBytes: 256 * 1024 });
    const size = 4 * 1024 * 1024;
    const mediaId = fake.addMedia(randomBytes(size), 'video/mp4', { reportedSize: 1000 });
    const error = await client.downloadMedia(mediaId).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(MediaTooLargeError);
    expect(error).toMatchObject({ details: { limitBytes: 256 * 1024, sizeBytes: size } });
    await waitFor(() => fake.downloads[0]?.closed, { what: 'the fake to see the refused download end' });
    // The refused body was dropped, not left holding a pooled connection: the next download comes through.
    const small = randomBytes(1024);
    const media = await client.downloadMedia(fake.addMedia(small, 'image/jpeg'));
    expect(media.bytes.equals(small)).toBe(true);
  });

  it('maps a refused download (Graph error on the media host) to the Graph error', async () => {
    const { sender } = setup();
    const mediaId = fake.addMedia(Buffer.from('hello'), 'text/plain');
    fake.failNext(1, 131026, { on: 'media-download' });
    const error = await sender.downloadMedia(mediaId).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(WhatsAppRequestError);
    expect(error).toMatchObject({ errorCode: 131026, retryable: false });
  });

  it('maps an unknown media id to a ChannelRequestError', async () => {
    const { sender } = setup();
    const error = await sender.downloadMedia('999').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ChannelRequestError);
    expect(error).toMatchObject({ errorCode: 100, retryable: false });
  });
});

describe('phone number check', () => {
  it('describes the business number behind an id, and tells a wrong token from an unknown id', async () => {
    const { client } = setup();
    fake.addPhoneNumber('109876543210', '+1 555-010-0199', 'Sleep Coach');
    expect(await client.phoneNumber('109876543210')).toEqual({ id: '109876543210', displayPhoneNumber: '+1 555-010-0199', verifiedName: 'Sleep Coach' });
    await expect(setup({ accessToken: 'EAAG-revoked' }).client.phoneNumber('109876543210')).rejects.toBeInstanceOf(ChannelAuthError);
    const unknown = await client.phoneNumber('404').catch((err: unknown) => err);
    expect(unknown).toBeInstanceOf(ChannelRequestError);
    expect(unknown).not.toBeInstanceOf(ChannelAuthError);
  });
});

describe('network failures', () => {
  /** A Graph URL whose server accepts requests and never answers them. */
  async function silentServer(): Promise<{ url: string; server: Server }> {
    const server = createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
  }

  function clientFor(graphUrl: string, timeoutMs?: number) {
    const client = new WhatsAppClient({ accessToken: fake.accessToken, graphUrl, pacer: new WhatsAppPacer({ clock }), ...(timeoutMs ? { timeoutMs } : {}) });
    return new WhatsAppSender(client, PHONE);
  }

  it('reports a Graph API it cannot reach as a retryable ChannelRequestError', async () => {
    const { url, server } = await silentServer();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const error = await clientFor(url)
      .sendText(ANA, { text: 'hi' })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ChannelRequestError);
    expect(error).toMatchObject({ retryable: true, errorCode: undefined });
  });

  it('gives up on a Graph API that does not answer within the timeout, retryable', async () => {
    const { url, server } = await silentServer();
    try {
      const error = await clientFor(url, 200)
        .markRead('wamid.in1')
        .catch((err: unknown) => err);
      expect(error).toBeInstanceOf(ChannelRequestError);
      expect(error).toMatchObject({ retryable: true, description: 'request timed out' });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('fake Graph API', () => {
  it('demands the bearer token for media downloads', async () => {
    const mediaId = fake.addMedia(Buffer.from('secret'), 'text/plain');
    const info = (await (await fetch(`${fake.url}/v22.0/${mediaId}`, { headers: { authorization: `Bearer ${fake.accessToken}` } })).json()) as { url: string };
    expect((await fetch(info.url)).status).toBe(401);
    expect(await (await fetch(info.url, { headers: { authorization: `Bearer ${fake.accessToken}` } })).text()).toBe('secret');
  });
});
