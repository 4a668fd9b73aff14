import type { EmailCategory } from '../ports.js';
import { documentIngestionFailed } from './document-ingestion-failed.template.js';
import { humanRequested } from './human-requested.template.js';
import type { EmailBrand, RenderedEmail } from './layout.js';
import { passwordReset } from './password-reset.template.js';
import { paymentFailed } from './payment-failed.template.js';
import { subscriptionEnded } from './subscription-ended.template.js';
import { verifyEmail } from './verify-email.template.js';
import { weeklyDigest } from './weekly-digest.template.js';

export type { EmailBrand, RenderedEmail } from './layout.js';

/** Every template, by the category it sends as. */
export const emailTemplates = {
  'verify-email': verifyEmail,
  'password-reset': passwordReset,
  'document-ingestion-failed': documentIngestionFailed,
  'payment-failed': paymentFailed,
  'subscription-ended': subscriptionEnded,
  'weekly-digest': weeklyDigest,
  'human-requested': humanRequested,
} satisfies { [C in EmailCategory]: (data: never, brand: EmailBrand) => RenderedEmail };

export type TemplateData<C extends EmailCategory> = Parameters<(typeof emailTemplates)[C]>[0];

/** Renders the template for `category` to subject, text and HTML. */
export function renderEmail<C extends EmailCategory>(category: C, data: TemplateData<C>, brand: EmailBrand): RenderedEmail {
  const template = emailTemplates[category] as (data: TemplateData<C>, brand: EmailBrand) => RenderedEmail;
  return template(data, brand);
}
