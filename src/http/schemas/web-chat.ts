import { z } from 'zod';

/** The page's id of one message: a retry sends it again, so the message is stored and answered once. */
export const webMessageIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be 8 to 64 letters, digits, "_" or "-" (a UUID will do)')
  .describe("Chosen by the client for each message (a UUID); sending it again stores nothing new and follows the same reply");

/** What a web chat message may carry besides its text. */
export const webMessageBody = z.object({
  messageId: webMessageIdSchema.optional(),
  button: z.string().min(1).max(64).optional().describe('The id of a button of an earlier reply the user pressed, instead of text'),
});

/** A web chat message is typed text or a pressed button, never both or neither. */
export function oneOfTextOrButton(body: { text?: string | undefined; button?: string | undefined }): boolean {
  return (body.text === undefined) !== (body.button === undefined);
}

export const oneOfTextOrButtonMessage = { message: 'Send either text or button', path: ['text'] };
