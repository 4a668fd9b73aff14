import { ConfigError, type Config } from '../config.js';
import { defaultUnknownAnswer } from '../conversation/phrases.js';
import { DigestRepository } from '../db/digest.repository.js';
import { EmailDirectoryRepository } from '../db/email-directory.repository.js';
import { EmailEventRepository } from '../db/email-event.repository.js';
import { EmailMessageRepository } from '../db/email-message.repository.js';
import { EmailOutboxRepository } from '../db/email-outbox.repository.js';
import { EmailSuppressionRepository } from '../db/email-suppression.repository.js';
import { OutboxMailer } from '../email/adapters/outbox.mailer.js';
import { SendGridMailer } from '../email/adapters/sendgrid.mailer.js';
import { SendGridWebhookVerifier } from '../email/adapters/sendgrid.webhook.js';
import type { OutboxReader } from '../email/delivery.ports.js';
import { EmailDeliveryService } from '../email/email-delivery.service.js';
import { EmailFeedbackService } from '../email/email-feedback.service.js';
import { EmailNotifications } from '../email/email-notifications.js';
import { EmailService } from '../email/email.service.js';
import type { Mailer } from '../email/ports.js';
import { UnsubscribeTokens } from '../email/unsubscribe-token.js';
import { WeeklyDigestService } from '../email/weekly-digest.service.js';
import type { Logger } from '../observability/logger.js';
import { createEmailProcessor, createEmailQueue } from '../../workers/email.worker.js';
import { startEmailScheduler } from '../../workers/email-scheduler.js';
import type { InfrastructureModule } from './infrastructure.module.js';
import type { ModuleLifecycle } from './module.types.js';

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
const EMAIL_CONCURRENCY = 4;
// An email younger than this still has its own enqueue in flight; older unsettled ones are swept.
const STALE_AFTER_MS = 60_000;

/** Email: what accounts, billing, knowledge and the app send through, and the `email` worker. */
export interface EmailModule extends ModuleLifecycle {
  /** Where mail goes: SendGrid when SENDGRID_API_KEY is set, otherwise the development outbox. */
  readonly transport: 'sendgrid' | 'outbox';
  email: EmailService;
  /** Account links, ingestion failures, and the BillingNotifier of src/billing/ports.ts. */
  notifications: EmailNotifications;
  feedback: EmailFeedbackService;
  /** Undefined when DIGEST_DAY=off. */
  digests: WeeklyDigestService | undefined;
  /** What buildApp takes as `email`. */
  http: { outbox?: OutboxReader; webhookVerifier?: SendGridWebhookVerifier; feedback: EmailFeedbackService };
  /** The ingest worker's `onFailed`. */
  onDocumentFailed(failure: { botId: string; documentId: string; reason: string; runKey: string }): Promise<void>;
  /** Starts the `email` worker and the scheduler (digests, sweep) in this process. */
  startWorkers(): void;
}

/** The base URL of the platform's own pages in links: PUBLIC_URL, or this process on localhost. */
function platformUrl(config: Config): string {
  return (config.PUBLIC_URL ?? `http://localhost:${config.PORT}`).replace(/\/+$/, '');
}

function webhookVerifier(config: Config): SendGridWebhookVerifier | undefined {
  if (!config.SENDGRID_WEBHOOK_PUBLIC_KEY) return undefined;
  try {
    return new SendGridWebhookVerifier({ publicKey: config.SENDGRID_WEBHOOK_PUBLIC_KEY });
  } catch (err) {
    throw new ConfigError([`SENDGRID_WEBHOOK_PUBLIC_KEY: not a P-256 public key (base64 DER or PEM): ${(err as Error).message}`]);
  }
}

/** Builds the email services and adapters over the platform's database and queues. */
export function createEmailModule({ config, logger, infrastructure }: { config: Config; logger: Logger; infrastructure: InfrastructureModule }): EmailModule {
  const { pool } = infrastructure.database;
  const { queues } = infrastructure;
  const from = { email: config.MAIL_FROM, name: config.MAIL_FROM_NAME };
  const brand = { productName: config.MAIL_FROM_NAME, supportEmail: config.MAIL_SUPPORT_EMAIL };
  const links = { platformUrl: platformUrl(config), dashboardUrl: config.DASHBOARD_URL ?? `${platformUrl(config)}/docs` };

  const verifier = webhookVerifier(config);
  const outbox = config.SENDGRID_API_KEY ? undefined : new EmailOutboxRepository(pool);
  const mailer: Mailer = config.SENDGRID_API_KEY
    ? new SendGridMailer({ apiKey: config.SENDGRID_API_KEY, from, apiBase: config.SENDGRID_API_BASE })
    : new OutboxMailer(outbox!, from, logger);

  const messages = new EmailMessageRepository(pool);
  const suppressions = new EmailSuppressionRepository(pool);
  const directory = new EmailDirectoryRepository(pool);
  const unsubscribeTokens = new UnsubscribeTokens(config.JWT_SECRET);
  const email = new EmailService({
    messages,
    queue: createEmailQueue(queues),
    brand,
    onEnqueueFailed: (err, messageId) => logger.warn({ err, messageId }, 'email: enqueue failed after the message was stored; the sweep will send it'),
  });
  const notifications = new EmailNotifications({ email, recipients: directory, documents: directory, handoffs: directory, links });
  const feedback = new EmailFeedbackService({ events: new EmailEventRepository(pool), suppressions, recipients: directory, unsubscribeTokens });
  const digests =
    config.DIGEST_DAY === 'off'
      ? undefined
      : new WeeklyDigestService({
          source: new DigestRepository(pool),
          email,
          schedule: { weekday: WEEKDAYS.indexOf(config.DIGEST_DAY), hour: config.DIGEST_HOUR },
          // The replies the engine writes when the material does not cover a question (src/conversation/steps/gate.step.ts).
          unknownReplies: (bot) => [...new Set([bot.unknownAnswer?.trim(), defaultUnknownAnswer(bot.language)].filter((r): r is string => Boolean(r)))],
          unsubscribeTokens,
          links,
          onCreatorFailed: (err, creatorId) => logger.warn({ err, creatorId }, 'email: weekly digest could not be prepared; retried next pass'),
        });

  if (!config.SENDGRID_API_KEY) logger.info('email: SENDGRID_API_KEY is not set; mail goes to the development outbox (GET /v1/dev/outbox)');
  let scheduler: { stop(): Promise<void> } | undefined;

  return {
    transport: config.SENDGRID_API_KEY ? 'sendgrid' : 'outbox',
    email,
    notifications,
    feedback,
    digests,
    http: { ...(outbox ? { outbox } : {}), ...(verifier ? { webhookVerifier: verifier } : {}), feedback },
    onDocumentFailed: (failure) => notifications.documentIngestionFailed(failure),
    startWorkers() {
      const delivery = new EmailDeliveryService({ messages, suppressions, mailer });
      queues.work('email', createEmailProcessor({ delivery, logger }), { concurrency: EMAIL_CONCURRENCY });
      scheduler = startEmailScheduler({ email, ...(digests ? { digests } : {}), intervalMs: config.EMAIL_SCHEDULER_INTERVAL_MS, staleAfterMs: STALE_AFTER_MS, logger });
    },
    async drain() {
      await scheduler?.stop();
    },
  };
}
