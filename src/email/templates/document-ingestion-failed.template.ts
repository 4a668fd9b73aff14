import { excerpt, html } from './html.js';
import { button, layout, type EmailBrand, type RenderedEmail } from './layout.js';

export interface DocumentIngestionFailedData {
  name: string;
  botName: string;
  documentTitle: string;
  /** Why, in words a creator understands (the document's `error`). */
  reason: string;
  /** Where the creator can retry or replace the document. */
  documentsUrl: string;
}

/** Tells a creator a document could not be added to their bot's knowledge. */
export function documentIngestionFailed(data: DocumentIngestionFailedData, brand: EmailBrand): RenderedEmail {
  const title = excerpt(data.documentTitle, 80);
  const reason = excerpt(data.reason, 300);
  return layout({
    brand,
    category: 'document-ingestion-failed',
    subject: `“${title}” could not be added to ${excerpt(data.botName, 60)}`,
    preheader: reason,
    htmlBody: html`<p>Hi ${data.name},</p>
<p>We could not process <strong>“${title}”</strong> for your bot <strong>${data.botName}</strong>:</p>
<blockquote style="border-left:3px solid #e5e7eb;color:#374151;margin:16px 0;padding:4px 12px">${reason}</blockquote>
<p>Your bot keeps answering from the rest of your material. You can try again, or upload the content in another format (PDF, Word, web page or plain text).</p>
${button('Open your documents', data.documentsUrl)}`,
    textBody: `Hi ${data.name},

We could not process “${title}” for your bot ${data.botName}:

  ${reason}

Your bot keeps answering from the rest of your material. You can try again, or upload the content in another format (PDF, Word, web page or plain text):

${data.documentsUrl}`,
  });
}
