import type { MailDataRequired, MailService } from '@sendgrid/mail';
import { MailDeliveryError } from '../email.errors.js';
import type { EmailAddress, Mailer, OutgoingEmail, SendResult } from '../ports.js';
import { isTransactional } from '../suppression.js';

export interface SendGridMailerOptions {
  apiKey: string;
  from: EmailAddress;
  /** SENDGRID_API_BASE, e.g. a local fake or proxy; default SendGrid's global API. */
  apiBase?: string | undefined;
  replyTo?: EmailAddress;
  timeoutMs?: number;
}

// The typings hide the client, which is where the base URL is set; this is the documented way.
interface WithClient {
  client: { setDefaultRequest(key: 'baseUrl', value: string): unknown };
}

/** The custom argument carrying OutgoingEmail.idempotencyKey; it comes back on every event. */
export const IDEMPOTENCY_ARG = 'idempotency_key';

/** SendGrid error bodies: `{errors:[{message, field, help}]}`. */
function sendGridErrors(body: unknown): Array<{ message: string; field: string | null }> {
  const errors = (body as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return [];
  return errors.map((e: { message?: unknown; field?: unknown }) => ({
    message: typeof e?.message === 'string' ? e.message : 'unknown error',
    field: typeof e?.field === 'string' ? e.field : null,
  }));
}

function retryAfter(headers: unknown): number | undefined {
  const reset = Number((headers as Record<string, unknown> | undefined)?.['x-ratelimit-reset']);
  if (!Number.isFinite(reset) || reset <= 0) return undefined;
  return Math.max(0, Math.ceil(reset - Date.now() / 1000));
}

/** Mailer over the official @sendgrid/mail client. */
export class SendGridMailer implements Mailer {
  private service: Promise<MailService> | undefined;

  constructor(private readonly options: SendGridMailerOptions) {}

  // The client (with its HTTP stack) takes about half a second to load: it is loaded with the first
  // mail, not at start-up. Own MailService (and client) per mailer: the package's default export is a
  // process-wide singleton.
  private connect(): Promise<MailService> {
    const { options } = this;
    // The typings describe only the package's default export; Node also exposes the class by name.
    this.service ??= (import('@sendgrid/mail') as unknown as Promise<{ MailService: typeof MailService }>).then(({ MailService }) => {
      const service = new MailService();
      service.setApiKey(options.apiKey);
      if (options.apiBase) (service as unknown as WithClient).client.setDefaultRequest('baseUrl', options.apiBase);
      service.setTimeout(options.timeoutMs ?? 30_000);
      return service;
    });
    return this.service;
  }

  async send(message: OutgoingEmail): Promise<SendResult> {
    const transactional = isTransactional(message.category);
    const data: MailDataRequired = {
      to: message.to,
      from: this.options.from,
      ...(this.options.replyTo ? { replyTo: this.options.replyTo } : {}),
      subject: message.subject,
      text: message.text,
      html: message.html,
      categories: [message.category],
      customArgs: { [IDEMPOTENCY_ARG]: message.idempotencyKey },
      ...(message.unsubscribeUrl
        ? { headers: { 'List-Unsubscribe': `<${message.unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } }
        : {}),
      // Rewritten links in password resets and verification mails look like phishing and break
      // when the tracking domain is down; transactional mail keeps its links as written.
      ...(transactional ? { trackingSettings: { clickTracking: { enable: false, enableText: false } } } : {}),
    };
    try {
      const [response] = await (await this.connect()).send(data);
      const id = response.headers['x-message-id'];
      return { providerMessageId: typeof id === 'string' ? id : null };
    } catch (err) {
      throw this.toDeliveryError(err);
    }
  }

  private toDeliveryError(err: unknown): MailDeliveryError {
    const e = err as { code?: unknown; response?: { body?: unknown; headers?: unknown }; message?: string };
    if (typeof e.code === 'number') {
      const status = e.code;
      const errors = sendGridErrors(e.response?.body);
      const retryable = status === 429 || status >= 500;
      const summary = errors.map((x) => (x.field ? `${x.field}: ${x.message}` : x.message)).join('; ') || e.message || 'no details';
      const after = status === 429 ? retryAfter(e.response?.headers) : undefined;
      return new MailDeliveryError(`SendGrid answered ${status}: ${summary}`, retryable, {
        status,
        errors,
        ...(after !== undefined ? { retryAfterSeconds: after } : {}),
      });
    }
    // No HTTP answer: connection refused, reset or timed out. The message may or may not have
    // been accepted; the idempotency key lets a later retry be matched to delivery events.
    return new MailDeliveryError(`SendGrid could not be reached: ${e.message ?? String(err)}`, true, {
      ...(typeof e.code === 'string' ? { cause: e.code } : {}),
    });
  }
}
