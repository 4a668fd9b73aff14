import type { SubscriptionEndedNotice } from '../../billing/ports.js';
import { formatDate } from './format.js';
import { html } from './html.js';
import { button, layout, type EmailBrand, type RenderedEmail } from './layout.js';

/** Tells a creator their paid plan ended and what they have now. */
export function subscriptionEnded(data: SubscriptionEndedNotice, brand: EmailBrand): RenderedEmail {
  const limits = data.fallbackLimits;
  return layout({
    brand,
    category: 'subscription-ended',
    subject: `Your ${data.planName} subscription has ended`,
    preheader: `Your account is now on the ${data.fallbackPlanName} plan.`,
    htmlBody: html`<p>Hi ${data.name},</p>
<p>Your ${data.planName} subscription ended on ${formatDate(data.endedAt)}. Your account is now on the ${data.fallbackPlanName} plan${limits.length ? ', which includes:' : '.'}</p>
${limits.length ? html`<ul>${limits.map((l) => html`<li>${l}</li>`)}</ul>` : ''}
<p>Your bots and documents are still here. Where your account is over these limits, you cannot add more until you subscribe again.</p>
${button('Choose a plan', data.resubscribeUrl)}`,
    textBody: `Hi ${data.name},

Your ${data.planName} subscription ended on ${formatDate(data.endedAt)}. Your account is now on the ${data.fallbackPlanName} plan${limits.length ? `, which includes:\n${limits.map((l) => `  - ${l}`).join('\n')}` : '.'}

Your bots and documents are still here. Where your account is over these limits, you cannot add more until you subscribe again:

${data.resubscribeUrl}`,
  });
}
