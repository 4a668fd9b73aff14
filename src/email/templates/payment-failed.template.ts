import type { PaymentFailedNotice } from '../../billing/ports.js';
import { formatDate, formatMoney } from './format.js';
import { html } from './html.js';
import { button, layout, type EmailBrand, type RenderedEmail } from './layout.js';

/** Tells a creator their renewal payment failed and how to fix it before the plan lapses. */
export function paymentFailed(data: PaymentFailedNotice, brand: EmailBrand): RenderedEmail {
  const amount = data.amountDue ? formatMoney(data.amountDue.amount, data.amountDue.currency) : null;
  const charge = amount ? `We could not charge ${amount} for your ${data.planName} plan.` : `We could not take the payment for your ${data.planName} plan.`;
  const retry = data.nextAttempt ? `We will try again on ${formatDate(data.nextAttempt)}.` : '';
  const lapse = data.accessUntil
    ? `Your ${data.planName} plan stays active until ${formatDate(data.accessUntil)}; after that your account moves to the ${data.fallbackPlanName} plan and its limits.`
    : `Until the payment goes through, your account may move to the ${data.fallbackPlanName} plan and its limits.`;
  return layout({
    brand,
    category: 'payment-failed',
    subject: `Your payment for ${data.planName} did not go through`,
    preheader: 'Update your payment details to keep your plan.',
    htmlBody: html`<p>Hi ${data.name},</p>
<p>${charge} ${retry}</p>
<p>${lapse}</p>
${button('Update payment details', data.updatePaymentUrl)}`,
    textBody: `Hi ${data.name},

${[charge, retry].filter(Boolean).join(' ')}

${lapse}

Update your payment details: ${data.updatePaymentUrl}`,
  });
}
