import { excerpt, html } from './html.js';
import { button, layout, type EmailBrand, type RenderedEmail } from './layout.js';

export interface HumanRequestedData {
  name: string;
  botName: string;
  /** Who asked, as the inbox names them. */
  contactName: string;
  /** telegram, whatsapp or web. */
  channel: string;
  /** What they wrote when asking, if anything beyond the command. */
  message: string | null;
  /** Where the creator opens the conversation. */
  inboxUrl: string;
}

const CHANNEL_NAMES: Record<string, string> = { telegram: 'Telegram', whatsapp: 'WhatsApp', web: 'web chat' };

/** Tells a creator that one of their bot's users asked to talk to a person. */
export function humanRequested(data: HumanRequestedData, brand: EmailBrand): RenderedEmail {
  const contact = excerpt(data.contactName, 80);
  const bot = excerpt(data.botName, 60);
  const channel = CHANNEL_NAMES[data.channel] ?? data.channel;
  const message = data.message ? excerpt(data.message, 500) : null;
  return layout({
    brand,
    category: 'human-requested',
    subject: `${contact} would like to talk to a person (${bot})`,
    preheader: message ?? `${contact} asked for a person on ${channel}.`,
    htmlBody: html`<p>Hi ${data.name},</p>
<p><strong>${contact}</strong> asked your bot <strong>${bot}</strong> on ${channel} to talk to a person. They were told that someone will answer them there.</p>
${message ? html`<blockquote style="border-left:3px solid #e5e7eb;color:#374151;margin:16px 0;padding:4px 12px">${message}</blockquote>` : ''}
<p>Take the conversation over from your inbox to answer them yourself; the bot stays silent until you hand it back.</p>
${button('Open the conversation', data.inboxUrl)}`,
    textBody: `Hi ${data.name},

${contact} asked your bot ${bot} on ${channel} to talk to a person. They were told that someone will answer them there.
${message ? `\n  ${message}\n` : ''}
Take the conversation over from your inbox to answer them yourself; the bot stays silent until you hand it back:

${data.inboxUrl}`,
  });
}
