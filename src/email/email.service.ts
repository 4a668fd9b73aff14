import type { EmailJobQueue, EmailMessageStore } from './delivery.ports.js';
import type { EmailAddress, EmailCategory } from './ports.js';
import { renderEmail, type EmailBrand, type TemplateData } from './templates/render-email.js';

export interface EmailServiceOptions {
  messages: EmailMessageStore;
  queue: EmailJobQueue;
  brand: EmailBrand;
  /** Told when a stored message could not be enqueued; the worker's sweep sends it later. */
  onEnqueueFailed?: (err: unknown, messageId: string) => void;
}

export interface SendRequest<C extends EmailCategory> {
  category: C;
  to: EmailAddress;
  data: TemplateData<C>;
  /** Names the effect: one email per key, however often it is requested. */
  dedupeKey: string;
  creatorId?: string | null;
}

/** Renders templates into the send queue; the email worker delivers them. */
export class EmailService {
  constructor(private readonly options: EmailServiceOptions) {}

  /** Renders and queues an email; a repeated dedupe key queues nothing new (`duplicate: true`). */
  async send<C extends EmailCategory>(request: SendRequest<C>): Promise<{ id: string; duplicate: boolean }> {
    const rendered = renderEmail(request.category, request.data, this.options.brand);
    const row = await this.options.messages.insert({
      dedupeKey: request.dedupeKey,
      creatorId: request.creatorId ?? null,
      category: rendered.category,
      to: request.to,
      subject: rendered.subject,
      text: rendered.text,
      html: rendered.html,
      ...(rendered.unsubscribeUrl ? { unsubscribeUrl: rendered.unsubscribeUrl } : {}),
    });
    // A duplicate whose first enqueue was lost is enqueued again; the job id makes this harmless.
    if (row.status === 'queued') await this.enqueue(row.id, request.dedupeKey);
    return { id: row.id, duplicate: !row.inserted };
  }

  /** Enqueues messages left unsettled since before `before` that have no live job (a lost enqueue, a lost queue); returns how many. */
  async requeueStale(before: Date, limit = 200): Promise<number> {
    const stale = await this.options.messages.unsettled(before, limit);
    let added = 0;
    for (const message of stale) if (await this.options.queue.ensure(message.id, message.dedupeKey)) added++;
    return added;
  }

  private async enqueue(id: string, dedupeKey: string): Promise<void> {
    try {
      await this.options.queue.enqueue(id, dedupeKey);
    } catch (err) {
      // The row is committed: the sweep (requeueStale) delivers it once the queue is back.
      this.options.onEnqueueFailed?.(err, id);
    }
  }
}
