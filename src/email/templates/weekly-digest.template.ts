import { count, formatDate } from './format.js';
import { excerpt, html } from './html.js';
import { button, layout, type EmailBrand, type RenderedEmail } from './layout.js';

export interface DigestBot {
  name: string;
  conversations: number;
  activeContacts: number;
  /** Questions the bot could not answer from the material, most recent first. End-user text. */
  unansweredQuestions: string[];
}

export interface WeeklyDigestData {
  name: string;
  periodStart: Date;
  /** Exclusive. */
  periodEnd: Date;
  bots: DigestBot[];
  dashboardUrl: string;
  unsubscribeUrl: string;
}

const QUESTIONS_SHOWN = 5;

/** A creator's week: conversations, active contacts and unanswered questions per bot. */
export function weeklyDigest(data: WeeklyDigestData, brand: EmailBrand): RenderedEmail {
  const lastDay = new Date(data.periodEnd.getTime() - 1);
  const range = `${formatDate(data.periodStart)} – ${formatDate(lastDay)}`;
  const conversations = data.bots.reduce((sum, b) => sum + b.conversations, 0);
  const contacts = data.bots.reduce((sum, b) => sum + b.activeContacts, 0);
  const unanswered = data.bots.reduce((sum, b) => sum + b.unansweredQuestions.length, 0);
  const summary = `${count(conversations, 'conversation', 'conversations')} with ${count(contacts, 'person', 'people')}; ${count(unanswered, 'question', 'questions')} your material did not answer.`;

  const botsHtml = data.bots.map((bot) => {
    const shown = bot.unansweredQuestions.slice(0, QUESTIONS_SHOWN);
    const more = bot.unansweredQuestions.length - shown.length;
    return html`<h2 style="font-size:17px;margin:28px 0 8px">${bot.name}</h2>
<table role="presentation" cellpadding="0" cellspacing="0" style="margin:0 0 8px">
<tr><td style="padding:2px 16px 2px 0">Conversations</td><td style="font-weight:600">${bot.conversations.toLocaleString('en-US')}</td></tr>
<tr><td style="padding:2px 16px 2px 0">Active contacts</td><td style="font-weight:600">${bot.activeContacts.toLocaleString('en-US')}</td></tr>
<tr><td style="padding:2px 16px 2px 0">Unanswered questions</td><td style="font-weight:600">${bot.unansweredQuestions.length.toLocaleString('en-US')}</td></tr>
</table>
${shown.length ? html`<p style="margin:8px 0 4px">Questions your material did not cover:</p><ul style="margin:0">${shown.map((q) => html`<li>${excerpt(q)}</li>`)}</ul>` : ''}
${more > 0 ? html`<p style="color:#6b7280">…and ${more} more.</p>` : ''}`;
  });

  const botsText = data.bots.map((bot) => {
    const shown = bot.unansweredQuestions.slice(0, QUESTIONS_SHOWN);
    const more = bot.unansweredQuestions.length - shown.length;
    return [
      bot.name,
      `  Conversations: ${bot.conversations}`,
      `  Active contacts: ${bot.activeContacts}`,
      `  Unanswered questions: ${bot.unansweredQuestions.length}`,
      ...shown.map((q) => `    - ${excerpt(q)}`),
      ...(more > 0 ? [`    …and ${more} more.`] : []),
    ].join('\n');
  });

  return layout({
    brand,
    category: 'weekly-digest',
    subject: `Your week with ${brand.productName}: ${count(conversations, 'conversation', 'conversations')}`,
    preheader: summary,
    unsubscribeUrl: data.unsubscribeUrl,
    htmlBody: html`<p>Hi ${data.name},</p>
<p>Here is how your bots did from ${range}: ${summary}</p>
${data.bots.length ? botsHtml : html`<p>Your bots had no conversations this week.</p>`}
<p>Answering the open questions in your material makes your bots better next week.</p>
${button('Open your dashboard', data.dashboardUrl)}`,
    textBody: `Hi ${data.name},

Here is how your bots did from ${range}: ${summary}

${data.bots.length ? botsText.join('\n\n') : 'Your bots had no conversations this week.'}

Answering the open questions in your material makes your bots better next week: ${data.dashboardUrl}`,
  });
}
