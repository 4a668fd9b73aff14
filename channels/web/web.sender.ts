import type { ChannelSender, DeliveryContext, OutboundMessage, ReplyEventBus, SendResult, StreamOptions } from '../../src/conversation/channel.ports.js';

/**
 * Sends a bot's web chat replies: the browser waits on an open request, possibly in another
 * process, so "sending" is publishing the turn's draft and reply on the bus its request listens to.
 * What was published is also in the database, where a request that missed it looks.
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
    await this.bus.publish(this.botId, conversationId, { type: 'reply', ...(context ? { turn: context } : {}), message });
    return { messageIds: [] };
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
