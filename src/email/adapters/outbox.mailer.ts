import type { EmailAddress, Mailer, OutboxEntry, OutboxStore, OutgoingEmail, SendResult } from '../ports.js';

/** The slice of a pino logger the outbox needs. */
export interface OutboxLogger {
  info(object: Record<string, unknown>, message: string): void;
}

/**
 * Development mailer: nothing leaves the machine. Every email is appended to a store (so it can
 * be read back, e.g. a verification link) and logged without its body.
 */
export class OutboxMailer implements Mailer {
  constructor(
    private readonly store: OutboxStore,
    private readonly from: EmailAddress,
    private readonly logger?: OutboxLogger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async send(message: OutgoingEmail): Promise<SendResult> {
    const to = typeof message.to === 'string' ? { email: message.to } : message.to;
    const entry: OutboxEntry = { ...message, to, from: this.from, createdAt: this.now() };
    const { inserted } = await this.store.append(entry);
    this.logger?.info(
      { to: to.email, subject: message.subject, category: message.category, idempotencyKey: message.idempotencyKey, duplicate: !inserted },
      inserted ? 'email stored in the outbox (not sent)' : 'email already in the outbox',
    );
    return { providerMessageId: null };
  }
}

/** An OutboxStore in memory, for development without a database and for tests. */
export class MemoryOutboxStore implements OutboxStore {
  readonly entries: OutboxEntry[] = [];

  async append(entry: OutboxEntry): Promise<{ inserted: boolean }> {
    if (this.entries.some((e) => e.idempotencyKey === entry.idempotencyKey)) return { inserted: false };
    this.entries.push(entry);
    return { inserted: true };
  }
}
