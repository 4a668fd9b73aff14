import { describe, expect, it } from 'vitest';
import { parseWhatsAppWebhook, phoneNumberIdsOf, toInboundMessage, type WhatsAppEvent, type WhatsAppInboundMessage } from '../../channels/whatsapp/whatsapp.inbound.js';
import {
  fixtureContact,
  fixtureMessage,
  fixtureStatus,
  loadWhatsAppPayload,
  typedMessage,
  webhookPayload,
  whatsappMessageFixtures,
  whatsappStatusFixtures,
} from '../support/whatsapp-payloads.js';

const PHONE = '1122334455667';
const USER = '972987654321';

function onlyMessage(payload: unknown): WhatsAppInboundMessage {
  const { events, ignored } = parseWhatsAppWebhook(payload);
  expect(ignored).toEqual([]);
  expect(events).toHaveLength(1);
  const event = events[0]!;
  if (event.type !== 'message') throw new Error(`expected a message, got ${event.type}`);
  return event.message;
}

function single(message: unknown): WhatsAppInboundMessage {
  return onlyMessage(webhookPayload([{ changes: [{ contacts: [fixtureContact()], messages: [message] }] }]));
}

function idsOf(events: WhatsAppEvent[]): string[] {
  return events.map((e) => (e.type === 'message' ? `message:${e.message.externalId}` : `status:${e.status.messageId}:${e.status.status}`));
}

describe('parseWhatsAppWebhook: the real fixtures', () => {
  it.each(whatsappMessageFixtures)('reads the %s fixture as one message from the user, keyed by its wamid', (name) => {
    const payload = loadWhatsAppPayload(name);
    const { events, ignored } = parseWhatsAppWebhook(payload);
    expect(ignored).toEqual([]);
    expect(events).toHaveLength(1);
    const event = events[0]!;
    expect(event).toMatchObject({ type: 'message', phoneNumberId: PHONE, wabaId: '1234567890987654321' });
    if (event.type !== 'message') return;
    const raw = fixtureMessage(name);
    expect(event.message).toMatchObject({
      channel: 'whatsapp',
      externalId: 'wamid.xyzxyz',
      externalMessageId: 'wamid.xyzxyz',
      conversationId: USER,
      contact: { externalId: USER, displayName: 'Test Name' },
      sentAt: new Date(Number(raw.timestamp) * 1000),
    });
  });

  it('gives text messages their body', () => {
    const message = onlyMessage(loadWhatsAppPayload('text'));
    expect(message).toMatchObject({ kind: 'text', text: 'Body Text', attachments: [] });
    expect(message.sentAt.toISOString()).toBe('2023-10-11T16:53:43.000Z');
    expect(message.replyToMessageId).toBeUndefined();
  });

  it('links a reply to the message it quotes', () => {
    const message = onlyMessage(loadWhatsAppPayload('reply'));
    expect(message).toMatchObject({ kind: 'text', text: 'replied text', replyToMessageId: 'wamid.xyzxyz==' });
  });

  it('turns an image into a photo attachment with its media id, mime type and checksum', () => {
    const message = onlyMessage(loadWhatsAppPayload('image'));
    expect(message.kind).toBe('attachment');
    expect(message.text).toBeUndefined();
    expect(message.attachments).toEqual([{ type: 'photo', fileId: '65463453', mimeType: 'image/jpeg', sha256: '4654+8g=' }]);
  });

  it('keeps a document’s file name and caption (the caption is also the text) and notes the forward', () => {
    const message = onlyMessage(loadWhatsAppPayload('document'));
    expect(message).toMatchObject({ kind: 'attachment', text: 'caption', forwarded: true });
    expect(message.replyToMessageId).toBeUndefined();
    expect(message.attachments).toEqual([
      {
        type: 'document',
        fileId: '1234567890987654321',
        mimeType: 'application/pdf',
        fileName: 'filename.pdf',
        caption: 'caption',
        sha256: 'grwfwe/ZPx0wAbdfbdeFUNItPZ0RylL8gGUvdt3YFqc18SY=',
      },
    ]);
  });

  it('tells an audio file from a voice note', () => {
    expect(onlyMessage(loadWhatsAppPayload('audio')).attachments[0]).toMatchObject({ type: 'audio', fileId: '1234567890987654321', mimeType: 'audio/ogg; codecs=opus' });
    const voice = fixtureMessage('audio', { audio: { ...(fixtureMessage('audio').audio as object), voice: true } });
    expect(single(voice).attachments[0]).toMatchObject({ type: 'voice', fileId: '1234567890987654321' });
  });

  it.each(whatsappStatusFixtures)('reads the %s status fixture as a delivery report', (name) => {
    const { events, ignored } = parseWhatsAppWebhook(loadWhatsAppPayload(name));
    expect(ignored).toEqual([]);
    expect(events).toHaveLength(1);
    const raw = fixtureStatus(name);
    expect(events[0]).toMatchObject({
      type: 'status',
      phoneNumberId: PHONE,
      wabaId: '5467539754836534',
      status: { messageId: 'wamid.xyzxyz', recipientId: USER, status: name, timestamp: new Date(Number(raw.timestamp) * 1000) },
    });
  });

  it('carries conversation and pricing on a sent status', () => {
    const [event] = parseWhatsAppWebhook(loadWhatsAppPayload('sent')).events;
    if (event?.type !== 'status') throw new Error('expected a status');
    expect(event.status.conversation).toEqual({ id: '7270432eae37498234f4444b35ffc5', expiresAt: new Date(1698339900 * 1000), originType: 'service' });
    expect(event.status.pricing).toEqual({ billable: true, pricingModel: 'CBP', category: 'service' });
    expect(event.status.errors).toBeUndefined();
  });

  it('carries the reason on a failed status', () => {
    const [event] = parseWhatsAppWebhook(loadWhatsAppPayload('failed')).events;
    if (event?.type !== 'status') throw new Error('expected a status');
    expect(event.status.errors).toEqual([
      {
        code: 130472,
        title: "User's number is part of an experiment",
        message: "User's number is part of an experiment",
        details: "Failed to send message because this user's phone number is part of an experiment",
      },
    ]);
  });
});

describe('parseWhatsAppWebhook: every message type', () => {
  it('turns a reply-button press into a callback carrying the button id, with its title as text', () => {
    const message = single(
      typedMessage('interactive', { type: 'button_reply', button_reply: { id: 'plan-yes', title: 'Yes, start' } }, { context: { from: '972123456789', id: 'wamid.question' } }),
    );
    expect(message).toMatchObject({ kind: 'callback', text: 'Yes, start', callback: { id: 'wamid.xyzxyz', data: 'plan-yes', messageId: 'wamid.question' } });
  });

  it('turns a list choice into a callback carrying the row id', () => {
    const message = single(typedMessage('interactive', { type: 'list_reply', list_reply: { id: 'week-2', title: 'Week 2', description: 'Habits' } }));
    expect(message).toMatchObject({ kind: 'callback', text: 'Week 2', callback: { data: 'week-2' } });
  });

  it('turns a template quick-reply button into a callback with its payload', () => {
    const message = single(typedMessage('button', { payload: 'CHECKIN_DONE', text: 'Done' }, { context: { from: '972123456789', id: 'wamid.reminder' } }));
    expect(message).toMatchObject({ kind: 'callback', text: 'Done', callback: { data: 'CHECKIN_DONE', messageId: 'wamid.reminder' } });
  });

  it('reads a reaction, and a removed reaction (no emoji)', () => {
    const added = single(typedMessage('reaction', { message_id: 'wamid.answer', emoji: '👍' }));
    expect(added).toMatchObject({ kind: 'reaction', reaction: { messageId: 'wamid.answer', emoji: '👍' } });
    expect(toInboundMessage(added)).toMatchObject({ kind: 'reaction', channel: 'whatsapp' });
    const removed = single(typedMessage('reaction', { message_id: 'wamid.answer' }));
    expect(removed.reaction).toEqual({ messageId: 'wamid.answer' });
  });

  it('reads a shared location with its place name', () => {
    const message = single(typedMessage('location', { latitude: 32.08, longitude: 34.78, name: 'Gym', address: '1 Main St', url: 'https://example.com' }));
    expect(message.kind).toBe('attachment');
    expect(message.attachments).toEqual([{ type: 'location', latitude: 32.08, longitude: 34.78, title: 'Gym', address: '1 Main St', url: 'https://example.com' }]);
  });

  it('reads shared contact cards with every phone number', () => {
    const message = single(
      typedMessage('contacts', [
        { name: { formatted_name: 'Dana Coach', first_name: 'Dana' }, phones: [{ phone: '+1 555 0100', wa_id: '15550100', type: 'CELL' }, { phone: '+1 555 0101', type: 'WORK' }] },
        { name: { first_name: 'Sam', last_name: 'Lee' }, phones: [] },
      ]),
    );
    expect(message.attachments).toEqual([
      { type: 'contact', phoneNumber: '+1 555 0100', contactName: 'Dana Coach', waId: '15550100', phoneNumbers: ['+1 555 0100', '+1 555 0101'] },
      { type: 'contact', contactName: 'Sam Lee' },
    ]);
  });

  it.each([
    ['video', 'video', { id: 'v1', mime_type: 'video/mp4', sha256: 'abc=', caption: 'my form' }],
    ['sticker', 'sticker', { id: 's1', mime_type: 'image/webp', sha256: 'def=', animated: true }],
  ] as const)('reads a %s as an attachment', (type, attachmentType, content) => {
    const message = single(typedMessage(type, content));
    expect(message.kind).toBe('attachment');
    expect(message.attachments[0]).toMatchObject({ type: attachmentType, fileId: content.id, mimeType: content.mime_type, sha256: content.sha256 });
    if (type === 'video') expect(message.text).toBe('my form');
    else expect(message.attachments[0]).toMatchObject({ animated: true });
  });

  it('marks messages WhatsApp itself cannot show as unsupported, with its reason', () => {
    const message = single(typedMessage('unsupported', undefined, { errors: [{ code: 131051, title: 'Message type unknown', message: 'Message type unknown', error_data: { details: 'Message type is currently not supported.' } }] }));
    expect(message).toMatchObject({ kind: 'unsupported', unsupportedReason: 'Message type unknown', externalId: 'wamid.xyzxyz' });
    expect(toInboundMessage(message)).toMatchObject({ kind: 'unsupported', channel: 'whatsapp' });
  });

  it('reads a typed "/reset" or "/start code" as the command it is on Telegram, and leaves other text alone', () => {
    expect(toInboundMessage(single(typedMessage('text', { body: '/Reset' })))).toMatchObject({ kind: 'command', command: { name: 'reset' } });
    expect(toInboundMessage(single(typedMessage('text', { body: '/start spring-cohort' })))).toMatchObject({
      kind: 'command',
      command: { name: 'start', payload: 'spring-cohort' },
    });
    expect(toInboundMessage(single(typedMessage('text', { body: 'and/or what?' })))).toMatchObject({ kind: 'text', text: 'and/or what?' });
  });

  it('marks types we do not read (orders, flows) as unsupported rather than dropping them', () => {
    expect(single(typedMessage('order', { catalog_id: '1', product_items: [] }))).toMatchObject({ kind: 'unsupported', whatsappType: 'order' });
    expect(single(typedMessage('interactive', { type: 'nfm_reply', nfm_reply: { response_json: '{}' } }))).toMatchObject({ kind: 'unsupported' });
  });

  it('ignores system notices, which no person typed', () => {
    const payload = webhookPayload([{ changes: [{ messages: [typedMessage('system', { body: 'User changed number', new_wa_id: '972000' })] }] }]);
    const { events, ignored } = parseWhatsAppWebhook(payload);
    expect(events).toEqual([]);
    expect(ignored).toEqual(['entry[0].changes[0].messages[0] wamid.xyzxyz: system notice (e.g. the user changed number)']);
  });

  it('keeps a message whose contact has no profile, and takes the name matching the sender', () => {
    expect(single(fixtureMessage('text')).contact).toEqual({ externalId: USER, displayName: 'Test Name' });
    const payload = webhookPayload([{ changes: [{ contacts: [fixtureContact({ wa_id: '111', profile: { name: 'Other' } }), fixtureContact()], messages: [fixtureMessage('text')] }] }]);
    expect(onlyMessage(payload).contact.displayName).toBe('Test Name');
    const anonymous = webhookPayload([{ changes: [{ messages: [fixtureMessage('text')] }] }]);
    expect(onlyMessage(anonymous).contact).toEqual({ externalId: USER });
  });
});

describe('parseWhatsAppWebhook: batches', () => {
  it('yields every message and status of a batched payload, in order, with each change’s phone number', () => {
    const payload = webhookPayload([
      {
        wabaId: 'waba-1',
        changes: [
          {
            phoneNumberId: 'phone-a',
            contacts: [fixtureContact()],
            messages: [
              fixtureMessage('text', { id: 'wamid.1' }),
              fixtureMessage('image', { id: 'wamid.2' }),
              typedMessage('interactive', { type: 'button_reply', button_reply: { id: 'b', title: 'B' } }, { id: 'wamid.3' }),
            ],
          },
          { phoneNumberId: 'phone-a', statuses: [fixtureStatus('sent', { id: 'wamid.out1' }), fixtureStatus('delivered', { id: 'wamid.out1' })] },
        ],
      },
      {
        wabaId: 'waba-2',
        changes: [
          {
            phoneNumberId: 'phone-b',
            contacts: [fixtureContact({ wa_id: '15550001', profile: { name: 'Ana' } })],
            messages: [fixtureMessage('reply', { id: 'wamid.4', from: '15550001' }), fixtureMessage('document', { id: 'wamid.5', from: '15550001' })],
            statuses: [fixtureStatus('read', { id: 'wamid.out2' }), fixtureStatus('failed', { id: 'wamid.out3' })],
          },
        ],
      },
    ]);
    const { events, ignored } = parseWhatsAppWebhook(payload);
    expect(ignored).toEqual([]);
    expect(idsOf(events)).toEqual([
      'message:wamid.1',
      'message:wamid.2',
      'message:wamid.3',
      'status:wamid.out1:sent',
      'status:wamid.out1:delivered',
      'message:wamid.4',
      'message:wamid.5',
      'status:wamid.out2:read',
      'status:wamid.out3:failed',
    ]);
    expect(events.map((e) => e.phoneNumberId)).toEqual([...Array(5).fill('phone-a'), ...Array(4).fill('phone-b')]);
    expect(events.map((e) => e.wabaId)).toEqual([...Array(5).fill('waba-1'), ...Array(4).fill('waba-2')]);
    const fromAna = events[5]!;
    expect(fromAna.type === 'message' && fromAna.message.contact).toEqual({ externalId: '15550001', displayName: 'Ana' });
    expect(phoneNumberIdsOf(payload)).toEqual(['phone-a', 'phone-b']);
  });

  it('skips malformed parts with where and why, and keeps everything around them', () => {
    const payload = webhookPayload([
      {
        changes: [
          {
            messages: [
              fixtureMessage('text', { id: 'wamid.good1' }),
              { ...fixtureMessage('text'), id: undefined },
              fixtureMessage('image', { id: 'wamid.noMedia', image: { mime_type: 'image/jpeg' } }),
              fixtureMessage('text', { id: 'wamid.badTime', timestamp: 'yesterday' }),
              typedMessage('interactive', { type: 'button_reply' }, { id: 'wamid.noReply' }),
              'not a message',
              fixtureMessage('text', { id: 'wamid.good2' }),
            ],
            statuses: [fixtureStatus('sent', { id: 'wamid.deleted', status: 'deleted' }), { id: 'wamid.noRecipient', status: 'sent', timestamp: '1' }, fixtureStatus('read')],
          },
          { raw: { field: 'account_update' } },
          { raw: { value: { messaging_product: 'whatsapp', messages: [fixtureMessage('text')] } } },
          { raw: { value: { messaging_product: 'whatsapp', metadata: { phone_number_id: PHONE }, errors: [{ code: 131000, title: 'Something went wrong' }] } } },
        ],
      },
    ]);
    (payload.entry as unknown[]).push('not an entry', { id: 'x' });
    const { events, ignored } = parseWhatsAppWebhook(payload);
    expect(idsOf(events)).toEqual(['message:wamid.good1', 'message:wamid.good2', 'status:wamid.xyzxyz:read']);
    expect(ignored).toEqual([
      'entry[0].changes[0].messages[1]: malformed message (id: Invalid input: expected string, received undefined)',
      'entry[0].changes[0].messages[2] wamid.noMedia: image without a media id (id: Invalid input: expected string, received undefined)',
      expect.stringMatching(/^entry\[0\]\.changes\[0\]\.messages\[3\] wamid\.badTime: malformed message \(timestamp: /),
      'entry[0].changes[0].messages[4] wamid.noReply: button_reply without its reply',
      expect.stringMatching(/^entry\[0\]\.changes\[0\]\.messages\[5\]: malformed message/),
      'entry[0].changes[0].statuses[0] wamid.deleted: status deleted not handled',
      expect.stringMatching(/^entry\[0\]\.changes\[0\]\.statuses\[1\] wamid\.noRecipient: malformed status \(recipient_id: /),
      'entry[0].changes[1]: field account_update not handled',
      expect.stringMatching(/^entry\[0\]\.changes\[2\]: malformed value \(metadata: /),
      'entry[0].changes[3].errors: 131000 Something went wrong',
      expect.stringMatching(/^entry\[1\]: malformed entry/),
      expect.stringMatching(/^entry\[2\]: malformed entry \(changes: /),
    ]);
  });

  it('never throws on well-formed JSON that is not what it expects', () => {
    const odd: unknown[] = [
      null,
      42,
      'text',
      [],
      {},
      { object: 'page', entry: [] },
      { object: 'whatsapp_business_account' },
      { object: 'whatsapp_business_account', entry: {} },
      { object: 'whatsapp_business_account', entry: [{ changes: [null, 1, { field: 'messages', value: null }] }] },
      { object: 'whatsapp_business_account', entry: [{ changes: [{ field: 'messages', value: { metadata: { phone_number_id: PHONE }, messages: {}, statuses: 'x' } }] }] },
      webhookPayload([{ changes: [{ messages: [typedMessage('contacts', 'nope'), typedMessage('location', { latitude: 'north' }), typedMessage('reaction', {})] }] }]),
    ];
    for (const value of odd) {
      const result = parseWhatsAppWebhook(value);
      expect(result.events).toEqual([]);
      expect(result.ignored.length).toBeGreaterThan(0);
      expect(phoneNumberIdsOf(value)).toEqual(expect.any(Array));
    }
    expect(parseWhatsAppWebhook({ object: 'page', entry: [] }).ignored).toEqual(['payload: object page not handled']);
  });

  it('tolerates fields it does not know', () => {
    const payload = loadWhatsAppPayload('text') as unknown as { entry: Array<{ changes: Array<{ value: { messages: object[] } }> }>; future: boolean };
    payload.future = true;
    const message = payload.entry[0]!.changes[0]!.value.messages[0]!;
    Object.assign(message, { from_user_id: 'US.1', referral: { source_type: 'ad' }, text: { body: 'Body Text', extra: 1 } });
    expect(onlyMessage(payload)).toMatchObject({ kind: 'text', text: 'Body Text' });
  });
});
