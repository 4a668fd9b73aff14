import type { InboundMessage } from '../../src/conversation/channel.ports.js';
import { storable } from '../../src/text/storable-text.js';

/** What the web chat page sends: typed text, or the id of a button the visitor pressed. */
export interface WebChatMessage {
  /** Chosen by the page for each message, and sent again with a retry: a resent message is stored once. */
  messageId: string;
  text?: string | undefined;
  button?: string | undefined;
}

const COMMAND = /^\/([A-Za-z0-9_]{1,64})(?:\s+([\s\S]*))?$/;

/**
 * The web chat's message as an InboundMessage of the web conversation `conversationId`: `/help`
 * and the other commands as commands, a pressed button as a callback, anything else as text.
 */
export function webInbound(conversationId: string, message: WebChatMessage, now = new Date()): InboundMessage {
  const base = {
    channel: 'web' as const,
    externalId: webExternalId(conversationId, message.messageId),
    conversationId,
    contact: { externalId: conversationId },
    attachments: [],
    sentAt: now,
  };
  if (message.button !== undefined) {
    return storable({ ...base, kind: 'callback', callback: { id: message.messageId, data: message.button } });
  }
  const text = message.text ?? '';
  const command = COMMAND.exec(text.trim());
  if (command) {
    const payload = command[2]?.trim();
    return storable({ ...base, kind: 'command', text, command: { name: command[1]!.toLowerCase(), ...(payload ? { payload } : {}) } });
  }
  // As on every channel: a NUL or lone surrogate the browser sent is replaced, not refused by the database.
  return storable({ ...base, kind: 'text', text });
}

/** The stored external id of a page's message: unique per conversation, so no conversation's ids can collide with another's. */
export function webExternalId(conversationId: string, messageId: string): string {
  return `${conversationId}:${messageId}`;
}

/** The page's own id of a web conversation's stored message (its external id without the conversation). */
export function webMessageId(conversationId: string, externalId: string): string {
  const prefix = `${conversationId}:`;
  return externalId.startsWith(prefix) ? externalId.slice(prefix.length) : externalId;
}
