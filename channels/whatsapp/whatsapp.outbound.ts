import { Text } from 'whatsapp-api-js/messages/text';
import { ActionButtons, ActionList, Body, Button, Footer, Header, Interactive, ListSection, Row } from 'whatsapp-api-js/messages/interactive';
import { BodyComponent, BodyParameter, Language, Template } from 'whatsapp-api-js/messages/template';
import type { ClientMessage } from 'whatsapp-api-js/types';
import { ValidationError } from '../../src/errors/app.errors.js';
import type { ChannelSender, OutboundMessage, SendResult, StreamOptions } from '../../src/conversation/channel.ports.js';
import type { DownloadedMedia, WhatsAppClient } from './whatsapp.client.js';
import { formatForWhatsApp, shorten, splitText, WHATSAPP_MAX_INTERACTIVE_BODY, WHATSAPP_MAX_TEXT } from './whatsapp.format.js';

/** Reply buttons per message, and characters per button title (Cloud API limits). */
export const MAX_REPLY_BUTTONS = 3;
export const MAX_BUTTON_TITLE = 20;
/** Rows per list message across all sections, and characters per row title. */
export const MAX_LIST_ROWS = 10;
export const MAX_ROW_TITLE = 24;

export interface ReplyButton {
  /** Comes back as the inbound callback's `data` when pressed. */
  id: string;
  title: string;
}

export interface ListMessage {
  body: string;
  /** The label of the button that opens the list (≤ 20 characters). */
  button: string;
  sections: Array<{ title?: string; rows: Array<{ id: string; title: string; description?: string }> }>;
  header?: string;
  footer?: string;
}

export interface WhatsAppSenderOptions {
  /** Label of the list button used when a reply offers more than three choices. Default "Options". */
  listButtonLabel?: string;
  /** Word that introduces the sources line. Default "Sources". */
  citationLabel?: string;
}

const sentBeforeFailure = new WeakMap<object, string[]>();

/**
 * The ids of the parts of a split reply that reached the user before `err` stopped the rest, so a
 * retry can resume instead of repeating them; empty when nothing was sent.
 */
export function messageIdsSentBefore(err: unknown): string[] {
  return typeof err === 'object' && err !== null ? (sentBeforeFailure.get(err) ?? []) : [];
}

// whatsapp-api-js checks Graph's limits in its constructors and throws plain Errors; ours are typed.
function build<T>(what: string, make: () => T): T {
  try {
    return make();
  } catch (err) {
    throw new ValidationError(`Invalid WhatsApp ${what}: ${(err as Error).message}`);
  }
}

function checkButtons(buttons: ReplyButton[]): void {
  if (buttons.length === 0 || buttons.length > MAX_REPLY_BUTTONS) {
    throw new ValidationError(`A WhatsApp message takes 1 to ${MAX_REPLY_BUTTONS} reply buttons`, { count: buttons.length });
  }
  const long = buttons.find((b) => b.title.length > MAX_BUTTON_TITLE);
  if (long) throw new ValidationError(`WhatsApp button titles are at most ${MAX_BUTTON_TITLE} characters`, { title: long.title });
}

/**
 * Sends replies from one WhatsApp business number: long text split into several messages, choices
 * as reply buttons or a list, templates outside the 24-hour window, read receipts and "typing…".
 */
export class WhatsAppSender implements ChannelSender {
  readonly channel = 'whatsapp' as const;

  constructor(
    private readonly client: WhatsAppClient,
    readonly phoneNumberId: string,
    private readonly options: WhatsAppSenderOptions = {},
  ) {}

  /**
   * Sends the reply as messages of up to 4,096 characters split at paragraph boundaries; with
   * buttons, the last part carries them (a list when there are more than three).
   */
  async sendText(to: string, message: OutboundMessage | string): Promise<SendResult> {
    const reply = typeof message === 'string' ? { text: message } : message;
    const text = formatForWhatsApp(reply, this.options);
    const buttons = reply.buttons ?? [];
    const chunks = splitText(text, WHATSAPP_MAX_TEXT);
    if (chunks.length === 0) throw new ValidationError('Cannot send an empty WhatsApp message');
    if (buttons.length === 0) return this.sendAll(to, chunks.map((chunk) => new Text(chunk)));

    // The buttons hang off an interactive message, whose body is shorter than a text message.
    const last = splitText(chunks.pop()!, WHATSAPP_MAX_INTERACTIVE_BODY);
    const body = last.pop()!;
    const lead = [...chunks, ...last].map((chunk) => new Text(chunk));
    return this.sendAll(to, [...lead, this.choices(body, buttons)]);
  }

  private choices(body: string, buttons: ReplyButton[]): ClientMessage {
    if (buttons.length <= MAX_REPLY_BUTTONS) {
      return this.buttonsMessage(body, buttons.map((b) => ({ id: b.id, title: shorten(b.title, MAX_BUTTON_TITLE) })));
    }
    if (buttons.length > MAX_LIST_ROWS) {
      throw new ValidationError(`A WhatsApp reply offers at most ${MAX_LIST_ROWS} choices`, { count: buttons.length });
    }
    return this.listMessage({
      body,
      button: shorten(this.options.listButtonLabel ?? 'Options', MAX_BUTTON_TITLE),
      sections: [{ rows: buttons.map((b) => ({ id: b.id, title: shorten(b.title, MAX_ROW_TITLE) })) }],
    });
  }

  private buttonsMessage(body: string, buttons: ReplyButton[], header?: string, footer?: string): ClientMessage {
    checkButtons(buttons);
    return build('buttons', () => {
      const action = new ActionButtons(...(buttons.map((b) => new Button(b.id, b.title)) as [Button, ...Button[]]));
      return new Interactive(action, new Body(body), header ? new Header(header) : undefined, footer ? new Footer(footer) : undefined);
    });
  }

  private listMessage(list: ListMessage): ClientMessage {
    const rows = list.sections.reduce((n, s) => n + s.rows.length, 0);
    if (list.sections.length === 0 || list.sections.some((s) => s.rows.length === 0) || rows > MAX_LIST_ROWS) {
      throw new ValidationError(`A WhatsApp list has 1 to ${MAX_LIST_ROWS} rows in non-empty sections`, { rows });
    }
    return build('list', () => {
      const sections = list.sections.map(
        (s) => new ListSection(s.title, ...(s.rows.map((r) => new Row(r.id, r.title, r.description)) as [Row, ...Row[]])),
      );
      const action = new ActionList(list.button, ...(sections as [ListSection, ...ListSection[]]));
      return new Interactive(action, new Body(list.body), list.header ? new Header(list.header) : undefined, list.footer ? new Footer(list.footer) : undefined);
    });
  }

  /** Sends one message with up to three reply buttons (titles ≤ 20 characters, body ≤ 1,024). */
  async sendButtons(to: string, body: string, buttons: ReplyButton[], options: { header?: string; footer?: string } = {}): Promise<SendResult> {
    return this.sendAll(to, [this.buttonsMessage(body, buttons, options.header, options.footer)]);
  }

  /** Sends one list message: a button that opens up to ten rows in titled sections. */
  async sendList(to: string, list: ListMessage): Promise<SendResult> {
    return this.sendAll(to, [this.listMessage(list)]);
  }

  /**
   * Sends an approved template, the only kind of message allowed outside the 24-hour window;
   * `parameters` fill the body's {{1}}, {{2}}, … in order.
   */
  async sendTemplate(to: string, name: string, language: string, parameters: string[] = []): Promise<SendResult> {
    const template = build('template', () => {
      const components = parameters.length > 0 ? [new BodyComponent(...(parameters.map((p) => new BodyParameter(p)) as [BodyParameter, ...BodyParameter[]]))] : [];
      return new Template(name, new Language(language), ...components);
    });
    return this.sendAll(to, [template]);
  }

  /** Marks the user's message read (blue ticks). */
  async markRead(messageId: string): Promise<void> {
    await this.client.markRead(this.phoneNumberId, messageId);
  }

  /**
   * Shows "typing…" (and marks the message read). WhatsApp ties the indicator to the user's message,
   * so without `inboundMessageId` there is nothing to show and this does nothing.
   */
  async sendTyping(_conversationId: string, inboundMessageId?: string): Promise<void> {
    if (!inboundMessageId) return;
    await this.client.markRead(this.phoneNumberId, inboundMessageId, { typing: true });
  }

  /** WhatsApp cannot edit a message as it grows: the tokens are gathered and the final reply sent once. */
  async streamText(to: string, tokens: AsyncIterable<string>, options: StreamOptions = {}): Promise<SendResult> {
    let text = '';
    for await (const token of tokens) text += token;
    const final = options.final ? await options.final(text) : { text };
    return this.sendText(to, final);
  }

  /** Button presses need no acknowledgement on WhatsApp. */
  async answerCallback(): Promise<void> {}

  /** Downloads a file the user sent (by the attachment's `fileId`). */
  downloadMedia(mediaId: string, options: { maxBytes?: number } = {}): Promise<DownloadedMedia> {
    return this.client.downloadMedia(mediaId, { phoneNumberId: this.phoneNumberId, ...options });
  }

  /** Sends the messages one after another; on failure, the ids already sent stay readable via `messageIdsSentBefore`. */
  private async sendAll(to: string, messages: ClientMessage[]): Promise<SendResult> {
    const messageIds: string[] = [];
    try {
      for (const message of messages) messageIds.push((await this.client.send(this.phoneNumberId, to, message)).messageId);
    } catch (err) {
      if (messageIds.length > 0 && typeof err === 'object' && err !== null) sentBeforeFailure.set(err, messageIds);
      throw err;
    }
    return { messageIds };
  }
}
