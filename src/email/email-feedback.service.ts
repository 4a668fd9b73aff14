import { AppError } from '../errors/app.errors.js';
import type { EmailEventStore, RecipientDirectory, SuppressionStore } from './delivery.ports.js';
import type { EmailEvent } from './ports.js';
import { isTransactional, normaliseEmail, suppressionFromEvent } from './suppression.js';
import type { UnsubscribeTokens } from './unsubscribe-token.js';

export interface EmailFeedbackDeps {
  events: EmailEventStore;
  suppressions: SuppressionStore;
  recipients: RecipientDirectory;
  unsubscribeTokens: UnsubscribeTokens;
}

/** What a batch of provider events changed. */
export interface FeedbackSummary {
  received: number;
  duplicates: number;
  suppressionChanges: number;
}

/**
 * Turns delivery feedback into the suppression list the email worker respects: bounces, spam
 * reports and unsubscribes from the provider's webhook, and unsubscribe links in our own mail.
 */
export class EmailFeedbackService {
  constructor(private readonly deps: EmailFeedbackDeps) {}

  /** Stores verified provider events (each once) and applies what they mean for suppressions. */
  async record(events: EmailEvent[]): Promise<FeedbackSummary> {
    const summary: FeedbackSummary = { received: events.length, duplicates: 0, suppressionChanges: 0 };
    for (const event of events) {
      // A redelivered event must not replay a change a later one undid (e.g. unsubscribe, resubscribe).
      if (!(await this.deps.events.record(event))) {
        summary.duplicates++;
        continue;
      }
      const change = suppressionFromEvent(event);
      if (!change) continue;
      await this.deps.suppressions.apply(change);
      summary.suppressionChanges++;
    }
    return summary;
  }

  /** Unsubscribes the person a link's token names from its category; INVALID_TOKEN (400) otherwise. */
  async unsubscribe(token: string): Promise<{ email: string }> {
    const claim = this.deps.unsubscribeTokens.read(token);
    // Transactional mail has no unsubscribe link; a token for it was not made here.
    const creator = claim && !isTransactional(claim.category) ? await this.deps.recipients.creator(claim.creatorId) : null;
    if (!claim || !creator) throw new AppError('INVALID_TOKEN', 400, 'This unsubscribe link is not valid');
    await this.deps.suppressions.apply({
      action: 'add',
      suppression: { email: normaliseEmail(creator.email), reason: 'group_unsubscribe', categories: [claim.category], since: Math.floor(Date.now() / 1000) },
    });
    return { email: creator.email };
  }
}
