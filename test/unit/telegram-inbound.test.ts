import { describe, expect, it } from 'vitest';
import { ALLOWED_UPDATES, normalizeTelegramUpdate } from '../../channels/telegram/telegram.inbound.js';
import type { InboundMessage } from '../../src/conversation/channel.ports.js';
import { chatMemberUpdate, loadTelegramUpdate, telegramUpdate, telegramUpdateFixtures, textUpdate } from '../support/telegram-updates.js';

function inbound(update: unknown, options?: Parameters<typeof normalizeTelegramUpdate>[1]): InboundMessage {
  const result = normalizeTelegramUpdate(update, options);
  if ('ignored' in result) throw new Error(`expected a message, got ignored: ${result.ignored}`);
  return result;
}

describe('normalizeTelegramUpdate on the real fixture updates', () => {
  it('a plain text message', () => {
    expect(inbound(loadTelegramUpdate('text'))).toEqual({
      channel: 'telegram',
      externalId: '123456789',
      conversationId: '12345678',
      contact: { externalId: '12345678', displayName: 'Mario Bros', username: 'MarioLovesPeach', languageCode: 'it' },
      kind: 'text',
      text: 'aaaaaaaaaa',
      attachments: [],
      externalMessageId: '123456',
      sentAt: new Date(1631818904 * 1000),
    });
  });

  it('a bare command', () => {
    const message = inbound(loadTelegramUpdate('command'));
    expect(message.kind).toBe('command');
    expect(message.command).toEqual({ name: 'test' });
    expect(message.externalId).toBe('144064961');
    expect(message.contact.displayName).toBe('Luca Patera');
  });

  it('a command with parameters keeps them as the payload', () => {
    const message = inbound(loadTelegramUpdate('command_with_parameters'));
    expect(message.kind).toBe('command');
    expect(message.command).toEqual({ name: 'register', payload: 'HR John Doe' });
    expect(message.text).toBe('/register HR John Doe');
  });

  it('a document becomes a typed attachment with name, type and size', () => {
    const message = inbound(loadTelegramUpdate('document'));
    expect(message.kind).toBe('attachment');
    expect(message.text).toBeUndefined();
    expect(message.attachments).toEqual([
      { type: 'document', fileId: 'a1b2c34d5e6f7g8h9i', fileName: 'document.pdf', mimeType: 'application/pdf', sizeBytes: 123456 },
    ]);
  });

  it('a photo keeps only the largest size, and its caption as the text', () => {
    const message = inbound(loadTelegramUpdate('photo'));
    expect(message.kind).toBe('attachment');
    expect(message.text).toBe('asdasdasdasdasdasd');
    expect(message.attachments).toEqual([
      { type: 'photo', fileId: 'SAAS', sizeBytes: 84913, width: 720, height: 960, caption: 'asdasdasdasdasdasd' },
    ]);
  });

  it('a voice note', () => {
    const message = inbound(loadTelegramUpdate('voice'));
    expect(message.kind).toBe('attachment');
    expect(message.attachments).toEqual([{ type: 'voice', fileId: 'dfghjjghdjhgd', mimeType: 'audio/ogg', sizeBytes: 6448, durationSeconds: 2 }]);
  });

  it('an edited message says which message changed and carries the new text', () => {
    const message = inbound(loadTelegramUpdate('edited_message'));
    expect(message).toMatchObject({
      kind: 'edited',
      editedMessageId: '23762',
      externalMessageId: '23762',
      replyToMessageId: '23758',
      text: 'Editing this message',
      conversationId: '999999999',
      sentAt: new Date(1584985245 * 1000),
    });
  });

  it('a button press carries the callback id, data and pressed message', () => {
    const now = new Date('2025-01-02T03:04:05Z');
    const message = inbound(loadTelegramUpdate('callback_query'), { now: () => now });
    expect(message).toMatchObject({
      kind: 'callback',
      externalId: '2',
      conversationId: '222222222',
      contact: { externalId: '222222222', displayName: 'Mario', username: 'Super', languageCode: 'it' },
      callback: { id: '666728699048485871', data: 'thedata', messageId: '69587' },
      sentAt: now,
    });
  });

  it('the my_chat_member fixture (owner → owner) changes nothing the bot acts on', () => {
    expect(normalizeTelegramUpdate(loadTelegramUpdate('my_chat_member'))).toEqual({ ignored: 'my_chat_member status creator not handled' });
  });

  it('every fixture update either normalises to the telegram channel or says why not, without throwing', () => {
    for (const name of telegramUpdateFixtures) {
      const result = normalizeTelegramUpdate(loadTelegramUpdate(name));
      if ('ignored' in result) expect(name).toBe('my_chat_member');
      else {
        expect(result.channel).toBe('telegram');
        expect(result.sentAt).toBeInstanceOf(Date);
        expect(Number.isNaN(result.sentAt.getTime())).toBe(false);
      }
    }
  });
});

describe('commands', () => {
  it('a deep link /start carries its payload', () => {
    const message = inbound(textUpdate('/start ref_abc-123', { chatId: 42 }));
    expect(message.kind).toBe('command');
    expect(message.command).toEqual({ name: 'start', payload: 'ref_abc-123' });
    expect(message.conversationId).toBe('42');
    expect(message.contact.externalId).toBe('42');
  });

  it('strips the @BotName suffix and ignores commands addressed to another bot', () => {
    expect(inbound(textUpdate('/help@CoachBot'), { botUsername: 'coachbot' }).command).toEqual({ name: 'help' });
    expect(inbound(textUpdate('/start@CoachBot promo')).command).toEqual({ name: 'start', payload: 'promo' });
    expect(normalizeTelegramUpdate(textUpdate('/help@OtherBot'), { botUsername: 'CoachBot' })).toEqual({ ignored: 'command for another bot' });
  });

  it('text that merely starts with a slash is not a command', () => {
    const message = inbound(textUpdate('/ this is not a command'));
    expect(message.kind).toBe('text');
    expect(message.command).toBeUndefined();
  });
});

describe('other message contents', () => {
  function withMessage(fields: Record<string, unknown>) {
    const update = telegramUpdate('text', { updateId: 500 }) as unknown as { message: Record<string, unknown> };
    delete update.message.text;
    Object.assign(update.message, fields);
    return update;
  }

  it('sticker, audio, video and location are typed attachments', () => {
    expect(inbound(withMessage({ sticker: { file_id: 'st', file_unique_id: 'u', type: 'regular', width: 512, height: 512, is_animated: false, is_video: false, emoji: '👍' } })).attachments).toEqual([
      { type: 'sticker', fileId: 'st', width: 512, height: 512, emoji: '👍' },
    ]);
    expect(inbound(withMessage({ audio: { file_id: 'au', file_unique_id: 'u', duration: 61, mime_type: 'audio/mpeg', file_name: 'talk.mp3' } })).attachments[0]).toMatchObject({
      type: 'audio',
      fileId: 'au',
      durationSeconds: 61,
      fileName: 'talk.mp3',
    });
    const video = inbound(withMessage({ video: { file_id: 'vi', file_unique_id: 'u', width: 1280, height: 720, duration: 5 }, caption: 'my run' }));
    expect(video).toMatchObject({ kind: 'attachment', text: 'my run', attachments: [{ type: 'video', fileId: 'vi', caption: 'my run' }] });
    expect(inbound(withMessage({ location: { latitude: 52.52, longitude: 13.405 } })).attachments).toEqual([{ type: 'location', latitude: 52.52, longitude: 13.405 }]);
  });

  it('a poll is an unsupported message the bot can answer; a service message is ignored', () => {
    expect(inbound(withMessage({ poll: { id: 'p', question: 'q', options: [] } })).kind).toBe('unsupported');
    expect(normalizeTelegramUpdate(withMessage({ new_chat_title: 'Renamed' }))).toEqual({ ignored: 'service message not handled' });
  });

  it('a group message keeps the group as the conversation and the sender as the contact', () => {
    const message = inbound(telegramUpdate('text', { chatId: -1001234567890, fromId: 777, text: 'hello group' }));
    expect(message.conversationId).toBe('-1001234567890');
    expect(message.contact.externalId).toBe('777');
  });
});

describe('my_chat_member', () => {
  it('the user blocking the bot → contact_status blocked', () => {
    const message = inbound(chatMemberUpdate('kicked', { updateId: 9001, chatId: 555 }));
    expect(message).toMatchObject({ kind: 'contact_status', contactStatus: 'blocked', conversationId: '555', externalId: '9001', contact: { externalId: '555' } });
  });

  it('the user restarting the bot → contact_status unblocked', () => {
    expect(inbound(chatMemberUpdate('member', { chatId: 555 })).contactStatus).toBe('unblocked');
  });
});

describe('what is not handled', () => {
  it('update types we do not subscribe to are ignored by name', () => {
    expect(normalizeTelegramUpdate({ update_id: 1, channel_post: { message_id: 1, chat: { id: -100, type: 'channel' }, date: 1 } })).toEqual({
      ignored: 'channel_post not handled',
    });
    expect(normalizeTelegramUpdate({ update_id: 2, inline_query: { id: 'q', from: { id: 1 }, query: '', offset: '' } })).toEqual({
      ignored: 'inline_query not handled',
    });
  });

  it.each([
    ['null', null],
    ['a string', 'update'],
    ['an array', [1, 2]],
    ['no update_id', { message: { text: 'hi' } }],
    ['a non-integer update_id', { update_id: '1', message: {} }],
    ['a message without a chat', { update_id: 1, message: { message_id: 1, date: 1, text: 'hi' } }],
    ['a message without a date', { update_id: 1, message: { message_id: 1, chat: { id: 1, type: 'private' }, text: 'hi' } }],
    ['a message that is not an object', { update_id: 1, message: 'hi' }],
    ['a callback without a sender', { update_id: 1, callback_query: { id: 'x', data: 'y' } }],
    ['my_chat_member without new status', { update_id: 1, my_chat_member: { chat: { id: 1 }, from: { id: 1 }, date: 1 } }],
    ['only an update_id', { update_id: 1 }],
  ])('malformed input (%s) is ignored, never thrown', (_label, update) => {
    expect(normalizeTelegramUpdate(update)).toEqual({ ignored: 'malformed update' });
  });

  it('ALLOWED_UPDATES lists exactly the update types that normalise', () => {
    expect([...ALLOWED_UPDATES].sort()).toEqual(['callback_query', 'edited_message', 'message', 'my_chat_member']);
  });
});
