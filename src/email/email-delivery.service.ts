import type { EmailMessageStore, SuppressionStore } from './delivery.ports.js';
import { MailDeliveryError } from './email.errors.js';
import type { Mailer } from './ports.js';
import { mayReceive, normaliseEmail } from './suppression.js';

export interface EmailDeliveryDeps {
  messages: EmailMessageStore;
  suppressions: SuppressionStore;
  mailer: Mailer;
}

/** What one delivery attempt came to. */
export type DeliveryOutcome = 'sent' | 'suppressed' | 'settled';

/**
 * Delivers one queued email: skips it when already settled (a retried or duplicated job sends
 * nothing twice), when the address is suppressed, and otherwise hands it to the Mailer.
 *
 * A worker that dies between the provider accepting the message and the row being settled leaves
 * it `sending`; the next attempt sends again (at least once: a second verification mail beats none).
 */
export class EmailDeliveryService {
  constructor(private readonly deps: EmailDeliveryDeps) {}

  /**
   * Runs one attempt. Throws MailDeliveryError when the provider refused: `retryable` ones put the
   * message back (or, on the last attempt, settle it failed); permanent ones settle it failed.
   */
  async deliver(messageId: string, options: { lastAttempt: boolean }): Promise<DeliveryOutcome> {
    const { messages, suppressions, mailer } = this.deps;
    const message = await messages.claim(messageId);
    if (!message) return 'settled';
    const permission = mayReceive(message.to.email, message.category, await suppressions.forAddress(normaliseEmail(message.to.email)));
    if (!permission.allowed) {
      await messages.settle(message.id, { status: 'suppressed', reason: permission.reason });
      return 'suppressed';
    }
    try {
      const result = await mailer.send({
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        category: message.category,
        idempotencyKey: message.dedupeKey,
        ...(message.unsubscribeUrl ? { unsubscribeUrl: message.unsubscribeUrl } : {}),
      });
      await messages.settle(message.id, { status: 'sent', providerMessageId: result.providerMessageId });
      return 'sent';
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      const permanent = err instanceof MailDeliveryError && !err.retryable;
      if (permanent || options.lastAttempt) await messages.settle(message.id, { status: 'failed', error });
      else await messages.release(message.id, error);
      throw err;
    }
  }
}
