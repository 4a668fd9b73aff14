import type { CreatorMessageChannel, CreatorSendOutcome } from '../conversation/takeover.ports.js';
import type { Clock } from './proactive.ports.js';
import type { ProactiveContent, ProactiveService } from './proactive.service.js';

/** A creator's own message: its text is fixed when written, and it reaches contacts who opted out of the bot's messages. */
export const creatorMessageContent: ProactiveContent = {
  respectsQuietHours: false,
  reachesOptedOut: true,
  // The person who took the conversation over is the one writing.
  duringTakeover: 'send',
  async message(send) {
    return send.message ? { message: { ...send.message, byPerson: true } } : { cancel: 'The message has no text' };
  },
};

/**
 * The creator's messages in a conversation they took over, sent as proactive sends of their own
 * kind: delivered at once through the ledger, the contact gate and WhatsApp's window rule, and
 * retried by the proactive worker `retryAfterMs` later when the channel failed in passing.
 */
export class ProactiveCreatorMessages implements CreatorMessageChannel {
  constructor(
    private readonly deps: { proactive: Pick<ProactiveService, 'sendNow'>; clock: Clock; retryAfterMs: number },
  ) {}

  async send(message: { botId: string; contactId: string; conversationId: string; effectKey: string; text: string }): Promise<CreatorSendOutcome> {
    const result = await this.deps.proactive.sendNow({
      botId: message.botId,
      contactId: message.contactId,
      conversationId: message.conversationId,
      effectKey: message.effectKey,
      kind: 'creator_message',
      dueAt: new Date(this.deps.clock().getTime() + this.deps.retryAfterMs),
      message: { text: message.text },
    });
    switch (result.outcome) {
      case 'settled':
        if (result.settled.status === 'sent') return { status: 'sent' };
        return { status: 'refused', reason: result.settled.reason, outsideWindow: result.settled.outsideWindow ?? false };
      case 'gone':
        return { status: 'refused', reason: 'The conversation is gone', outsideWindow: false };
      default:
        // Failed in passing, or another attempt holds it right now: the worker delivers it.
        return { status: 'retrying' };
    }
  }
}
