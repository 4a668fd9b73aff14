import { html } from './html.js';
import { button, layout, type EmailBrand, type RenderedEmail } from './layout.js';

export interface PasswordResetData {
  name: string;
  resetUrl: string;
  expiresInMinutes: number;
}

/** Sends a creator the link to choose a new password. */
export function passwordReset(data: PasswordResetData, brand: EmailBrand): RenderedEmail {
  const minutes = `${data.expiresInMinutes} ${data.expiresInMinutes === 1 ? 'minute' : 'minutes'}`;
  return layout({
    brand,
    category: 'password-reset',
    subject: `Reset your ${brand.productName} password`,
    preheader: `This link works for ${minutes}.`,
    htmlBody: html`<p>Hi ${data.name},</p>
<p>Someone, hopefully you, asked to reset the password of your ${brand.productName} account.</p>
${button('Choose a new password', data.resetUrl)}
<p>This link works once, for ${minutes}. If you did not ask for it, ignore this email: your password stays as it is.</p>`,
    textBody: `Hi ${data.name},

Someone, hopefully you, asked to reset the password of your ${brand.productName} account. Choose a new password here:

${data.resetUrl}

This link works once, for ${minutes}. If you did not ask for it, ignore this email: your password stays as it is.`,
  });
}
