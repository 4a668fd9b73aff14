import { html } from './html.js';
import { button, layout, type EmailBrand, type RenderedEmail } from './layout.js';

export interface VerifyEmailData {
  name: string;
  verifyUrl: string;
  expiresInHours: number;
}

/** Asks a new creator to confirm their address. */
export function verifyEmail(data: VerifyEmailData, brand: EmailBrand): RenderedEmail {
  const hours = `${data.expiresInHours} ${data.expiresInHours === 1 ? 'hour' : 'hours'}`;
  return layout({
    brand,
    category: 'verify-email',
    subject: `Confirm your email for ${brand.productName}`,
    preheader: 'One click and your account is ready.',
    htmlBody: html`<p>Hi ${data.name},</p>
<p>Please confirm your email address so you can start building your coaching assistant.</p>
${button('Confirm my email', data.verifyUrl)}
<p>This link works for ${hours}. If you did not sign up for ${brand.productName}, you can ignore this email.</p>`,
    textBody: `Hi ${data.name},

Please confirm your email address so you can start building your coaching assistant:

${data.verifyUrl}

This link works for ${hours}. If you did not sign up for ${brand.productName}, you can ignore this email.`,
  });
}
