import type { BillingNotifier, PaymentFailedNotice, SubscriptionEndedNotice } from '../billing/ports.js';
import type { EmailRecipient, RecipientDirectory } from './delivery.ports.js';
import type { EmailService } from './email.service.js';

/** Where links in emails lead. */
export interface NotificationLinks {
  /** The platform's own pages (email verification, password reset), e.g. PUBLIC_URL. */
  platformUrl: string;
  /** Where "open your dashboard / documents" buttons lead. */
  dashboardUrl: string;
}

/** A single-use account link, as issued by the account service. */
export interface AccountLinkToken {
  tokenId: string;
  token: string;
  expiresAt: Date;
}

/** What an ingestion-failure email needs to know about the document. */
export interface FailedDocumentDirectory {
  describe(botId: string, documentId: string): Promise<{ creator: EmailRecipient; botName: string; documentTitle: string } | null>;
}

/** Who asked for a person, for the email telling the creator. */
export interface HumanRequestDirectory {
  describeRequest(
    botId: string,
    conversationId: string,
    turnId: string,
  ): Promise<{ creator: EmailRecipient; botName: string; contactName: string; channel: string; message: string | null } | null>;
}

export interface EmailNotificationsDeps {
  email: Pick<EmailService, 'send'>;
  recipients: RecipientDirectory;
  documents: FailedDocumentDirectory;
  /** Without it, requests for a person are not mailed. */
  handoffs?: HumanRequestDirectory;
  links: NotificationLinks;
  now?: () => Date;
}

/** Template data with the greeting name optional: it defaults to the creator's own name. */
type WithOptionalName<T extends { name: string }> = Omit<T, 'name'> & { name?: string };

/** A link base without a trailing slash. */
function base(url: string): string {
  return url.replace(/\/+$/, '');
}

/**
 * The emails the platform sends creators, each keyed so it goes out once: account links
 * (verification, password reset), ingestion failures and billing notices (the BillingNotifier
 * port of src/billing).
 */
export class EmailNotifications implements BillingNotifier {
  private readonly now: () => Date;

  constructor(private readonly deps: EmailNotificationsDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Asks a creator to confirm their address; the token travels in the link's fragment, never to a server log. */
  async verifyEmail(creator: EmailRecipient, link: AccountLinkToken): Promise<void> {
    const hours = Math.max(1, Math.round((link.expiresAt.getTime() - this.now().getTime()) / 3_600_000));
    await this.deps.email.send({
      category: 'verify-email',
      to: { email: creator.email, name: creator.name },
      data: { name: creator.name, verifyUrl: `${base(this.deps.links.platformUrl)}/account/verify-email#token=${link.token}`, expiresInHours: hours },
      dedupeKey: `verify-email:${link.tokenId}`,
      creatorId: creator.id,
    });
  }

  /** Sends the link to choose a new password. */
  async passwordReset(creator: EmailRecipient, link: AccountLinkToken): Promise<void> {
    const minutes = Math.max(1, Math.round((link.expiresAt.getTime() - this.now().getTime()) / 60_000));
    await this.deps.email.send({
      category: 'password-reset',
      to: { email: creator.email, name: creator.name },
      data: { name: creator.name, resetUrl: `${base(this.deps.links.platformUrl)}/account/reset-password#token=${link.token}`, expiresInMinutes: minutes },
      dedupeKey: `password-reset:${link.tokenId}`,
      creatorId: creator.id,
    });
  }

  /**
   * Tells the creator a document could not be ingested. `runKey` names the ingestion run (its job
   * id), so a retried job mails once and a later re-ingest that fails again mails again.
   */
  async documentIngestionFailed(input: { botId: string; documentId: string; reason: string; runKey: string }): Promise<void> {
    const found = await this.deps.documents.describe(input.botId, input.documentId);
    if (!found) return; // deleted meanwhile: nothing to tell
    await this.deps.email.send({
      category: 'document-ingestion-failed',
      to: { email: found.creator.email, name: found.creator.name },
      data: {
        name: found.creator.name,
        botName: found.botName,
        documentTitle: found.documentTitle,
        reason: input.reason,
        documentsUrl: this.deps.links.dashboardUrl,
      },
      dedupeKey: `document-ingestion-failed:${input.runKey}`,
      creatorId: found.creator.id,
    });
  }

  /** Tells the creator a contact asked for a person; `turnId` (the turn that asked) keys it, so a retried turn mails once. */
  async humanRequested(request: { botId: string; conversationId: string; turnId: string }): Promise<void> {
    const found = await this.deps.handoffs?.describeRequest(request.botId, request.conversationId, request.turnId);
    if (!found) return; // deleted meanwhile: nothing to tell
    await this.deps.email.send({
      category: 'human-requested',
      to: { email: found.creator.email, name: found.creator.name },
      data: {
        name: found.creator.name,
        botName: found.botName,
        contactName: found.contactName,
        channel: found.channel,
        message: found.message,
        inboxUrl: this.deps.links.dashboardUrl,
      },
      dedupeKey: `human-requested:${request.turnId}`,
      creatorId: found.creator.id,
    });
  }

  /** Tells a creator their renewal payment failed (BillingNotifier). */
  async paymentFailed(creatorId: string, data: WithOptionalName<PaymentFailedNotice>, dedupeKey: string): Promise<void> {
    const creator = await this.deps.recipients.creator(creatorId);
    if (!creator) return;
    await this.deps.email.send({
      category: 'payment-failed',
      to: { email: creator.email, name: creator.name },
      data: { ...data, name: data.name ?? creator.name },
      dedupeKey,
      creatorId,
    });
  }

  /** Tells a creator their paid plan ended (BillingNotifier). */
  async subscriptionEnded(creatorId: string, data: WithOptionalName<SubscriptionEndedNotice>, dedupeKey: string): Promise<void> {
    const creator = await this.deps.recipients.creator(creatorId);
    if (!creator) return;
    await this.deps.email.send({
      category: 'subscription-ended',
      to: { email: creator.email, name: creator.name },
      data: { ...data, name: data.name ?? creator.name },
      dedupeKey,
      creatorId,
    });
  }
}
