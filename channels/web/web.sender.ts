import { randomUUID } from 'node:crypto';
import type { ChannelSender, DeliveryContext, OutboundMessage, ReplyEventBus, SendResult, StreamOptions } from '../../src/conversation/channel.ports.js';

/**
 * Sends a bot's web chat replies: the browser waits on an open request, possibly in another
 * process, so "sending" is publishing the turn's draft and reply on the bus its request listens to.
 * Messages of no turn (notices, proactive and the creator's own) go on the same bus to the page's
 * open stream. What was published is also in the database, where a page that missed it looks.
 */
export class WebSender implements ChannelSender {
  readonly channel = 'web' as const;

  constructor(
    private readonly botId: string,
    private readonly bus: Pick<ReplyEventBus, 'publish'>,
    /** Told when a draft could not be published (the reply still comes: the final message is not lost). */
    private readonly onDraftLost?: (error: unknown) => void,
  ) {}

  async sendText(conversationId: string, message: OutboundMessage, context?: DeliveryContext): Promise<SendResult> {
    if (context) {
      await this.bus.publish(this.botId, conversationId, { type: 'reply', turn: context, message });
      return { messageIds: [] };
    }
    // A message of no turn goes to the visitor's open page, if any: the ledger keeps its id, which the
    // page's history shows it under, so a page that saw it live does not show it twice.
    const id = randomUUID();
    await this.bus.publish(this.botId, conversationId, { type: 'reply', message, id, at: new Date().toISOString() });
    return { messageIds: [id] };
  }

  async streamText(conversationId: string, tokens: AsyncIterable<string>, options: StreamOptions = {}): Promise<SendResult> {
    const { context } = options;
    let text = '';
    // Each pull takes everything generated since the last one, so a slow bus gets fewer, fuller drafts.
    for await (const delta of tokens) {
      if (context) {
        await this.bus.publish(this.botId, conversationId, { type: 'draft', turn: context, offset: text.length, text: delta }).catch((err: unknown) => this.onDraftLost?.(err));
      }
      text += delta;
    }
    const message = options.final ? await options.final(text) : { text };
    return this.sendText(conversationId, message, context);
  }

  async sendTyping(): Promise<void> {
    // The page shows its own "typing" until the first draft arrives.
  }

  async answerCallback(): Promise<void> {
    // A pressed button is acknowledged by the reply it gets.
  }
}
