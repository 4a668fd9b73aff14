import { OutsideWindowError, type ChannelSender, type OutboundMessage, type SendResult, type StreamOptions } from '../../src/conversation/channel.ports.js';
import { WINDOW_CLOSED_CODE, WindowClosedError } from './whatsapp.errors.js';
import type { WhatsAppSender } from './whatsapp.outbound.js';
import { chooseDelivery, NO_TEMPLATE_MESSAGE } from './service-window.js';

export interface WindowTemplate {
  name: string;
  language: string;
  /** Fixed values of the body's {{1}}, {{2}}, …; the value `{{text}}` stands for the message's own text. */
  parameters?: string[] | undefined;
}

/** The parameter value replaced by the text of the message being sent. */
export const TEXT_PARAMETER = '{{text}}';

// Cloud API limits on a template body parameter: no new lines or tabs, at most 4 spaces in a row, 1,024 characters.
function asTemplateParameter(text: string): string {
  const flat = text.replace(/[\r\n\t]+/g, ' ').replace(/ {4,}/g, '   ').trim();
  return flat.length > 1024 ? `${flat.slice(0, 1023)}…` : flat;
}

export interface WindowedSenderOptions {
  /** When the user last wrote to this number (the contact's last inbound message); undefined if never. */
  lastInboundAt(to: string): Promise<Date | undefined>;
  /** The bot's approved template for a closed window; without one such sends fail. */
  template?: WindowTemplate | undefined;
  /** Treat the window as closed this long before it really closes (default 60 s). */
  marginMs?: number;
  now?: () => Date;
}

/** A send that needs a template the bot does not have: recorded as failed with this reason, never retried. */
export class TemplateRequiredError extends OutsideWindowError {
  constructor() {
    super('whatsapp', WINDOW_CLOSED_CODE, NO_TEMPLATE_MESSAGE);
    this.name = 'TemplateRequiredError';
  }
}

/**
 * Sends within WhatsApp's 24-hour customer-service window: free-form while it is open, the bot's
 * approved template once it has closed (also when Meta refuses with 131047 because our clock and
 * theirs disagree), and a TemplateRequiredError when there is no template.
 */
export class WindowedWhatsAppSender implements ChannelSender {
  readonly channel = 'whatsapp' as const;

  constructor(
    readonly inner: WhatsAppSender,
    private readonly options: WindowedSenderOptions,
  ) {}

  async sendText(to: string, message: OutboundMessage): Promise<SendResult> {
    const template = this.options.template;
    const delivery = chooseDelivery({
      lastInboundAt: await this.options.lastInboundAt(to),
      now: this.options.now?.() ?? new Date(),
      templateConfigured: template !== undefined,
      marginMs: this.options.marginMs ?? 60_000,
    });
    if (typeof delivery === 'object') throw new TemplateRequiredError();
    if (delivery === 'template') return this.sendTemplate(to, message);
    try {
      return await this.inner.sendText(to, message);
    } catch (err) {
      if (!(err instanceof WindowClosedError)) throw err;
      return this.sendTemplate(to, message);
    }
  }

  /** WhatsApp cannot show a message growing: the whole reply is gathered, then sent once. */
  async streamText(to: string, tokens: AsyncIterable<string>, options: StreamOptions = {}): Promise<SendResult> {
    let text = '';
    for await (const token of tokens) text += token;
    return this.sendText(to, options.final ? await options.final(text) : { text });
  }

  sendTyping(conversationId: string, inboundMessageId?: string): Promise<void> {
    return this.inner.sendTyping(conversationId, inboundMessageId);
  }

  answerCallback(): Promise<void> {
    return this.inner.answerCallback();
  }

  async downloadMedia(fileId: string, options: { maxBytes: number }): Promise<{ bytes: Buffer; mimeType: string }> {
    return this.inner.downloadMedia(fileId, options);
  }

  private sendTemplate(to: string, message: OutboundMessage): Promise<SendResult> {
    const template = this.options.template;
    if (!template) throw new TemplateRequiredError();
    const parameters = (template.parameters ?? []).map((p) => (p === TEXT_PARAMETER ? asTemplateParameter(message.text) || ' ' : p));
    return this.inner.sendTemplate(to, template.name, template.language, parameters);
  }
}
