import { MailService, type MailDataRequired } from '@sendgrid/mail';
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
  private readonly service = new MailService();

  constructor(private readonly options: SendGridMailerOptions) {
    // Own MailService (and client) per mailer: the package's default export is a process-wide singleton.
    this.service.setApiKey(options.apiKey);
    if (options.apiBase) (this.service as unknown as WithClient).client.setDefaultRequest('baseUrl', options.apiBase);
    this.service.setTimeout(options.timeoutMs ?? 30_000);
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
      const [response] = await this.service.send(data);
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
