import type { EmailCategory } from '../ports.js';
import { html, safeUrl, subjectLine, type SafeHtml } from './html.js';

/** Installation-wide details every email shows. */
export interface EmailBrand {
  /** e.g. "Coachbot" or the self-hoster's own name. */
  productName: string;
  /** Where people reach a human; shown in the footer when set. */
  supportEmail?: string | undefined;
}

/** A rendered email, ready for a Mailer (add `to` and an idempotency key). */
export interface RenderedEmail {
  category: EmailCategory;
  subject: string;
  text: string;
  html: string;
  unsubscribeUrl?: string;
}

interface LayoutInput {
  brand: EmailBrand;
  category: EmailCategory;
  subject: string;
  /** Shown by mail clients next to the subject. */
  preheader: string;
  htmlBody: SafeHtml;
  textBody: string;
  unsubscribeUrl?: string;
}

/** A call-to-action button (bulletproof: a styled link, no images). */
export function button(label: string, url: string): SafeHtml {
  return html`<p style="margin:24px 0"><a href="${safeUrl(url)}" style="background:#2f6f4f;border-radius:6px;color:#ffffff;display:inline-block;font-weight:600;padding:12px 20px;text-decoration:none">${label}</a></p>
<p style="color:#6b7280;font-size:13px">If the button does not work, copy this address into your browser:<br><a href="${safeUrl(url)}" style="color:#2f6f4f;word-break:break-all">${url}</a></p>`;
}

/** Wraps a body in the shared HTML layout and the matching plain-text footer. */
export function layout(input: LayoutInput): RenderedEmail {
  const { brand } = input;
  const subject = subjectLine(input.subject);
  const support = brand.supportEmail ? html`Questions? Write to <a href="${safeUrl(`mailto:${brand.supportEmail}`)}" style="color:#6b7280">${brand.supportEmail}</a>.` : '';
  const unsubscribe = input.unsubscribeUrl
    ? html`<br><a href="${safeUrl(input.unsubscribeUrl)}" style="color:#6b7280">Unsubscribe from these emails</a>`
    : '';
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${subject}</title>
</head>
<body style="background:#f4f5f7;margin:0;padding:0">
<span style="display:none;max-height:0;overflow:hidden;opacity:0">${input.preheader}</span>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7">
<tr><td align="center" style="padding:24px 12px">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#ffffff;border-radius:8px;max-width:560px">
<tr><td style="color:#111827;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:15px;line-height:1.6;padding:32px">
${input.htmlBody}
</td></tr>
</table>
<p style="color:#6b7280;font-family:Helvetica,Arial,sans-serif;font-size:12px;line-height:1.5;margin:16px 0 0">${brand.productName}. ${support}${unsubscribe}</p>
</td></tr>
</table>
</body>
</html>
`;
  const textFooter = [
    '',
    '--',
    brand.productName,
    ...(brand.supportEmail ? [`Questions? Write to ${brand.supportEmail}.`] : []),
    ...(input.unsubscribeUrl ? [`Unsubscribe: ${input.unsubscribeUrl}`] : []),
  ].join('\n');
  return {
    category: input.category,
    subject,
    text: `${input.textBody.trim()}\n${textFooter}\n`,
    html: page.value,
    ...(input.unsubscribeUrl ? { unsubscribeUrl: input.unsubscribeUrl } : {}),
  };
}
