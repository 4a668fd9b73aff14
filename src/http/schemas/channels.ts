import { z } from 'zod';

export const telegramChannelBody = z.object({
  token: z.string().trim().min(1).max(200).describe('The bot token from @BotFather'),
});

export const telegramChannelResponse = z.object({
  username: z.string().describe("The Telegram bot's username"),
});

export const telegramWebhookParams = z.object({ botId: z.string() });

export const webhookAck = z.object({ ok: z.literal(true) });

const whatsappTemplate = z.object({
  name: z.string().trim().min(1).max(512).describe('Name of an approved message template'),
  language: z.string().trim().min(2).max(15).describe('Its language code, e.g. en_US'),
  parameters: z.array(z.string().min(1).max(1024)).max(20).optional().describe('Values for {{1}}, {{2}}, … in its body'),
});

export const whatsappChannelBody = z.object({
  phoneNumberId: z.string().trim().regex(/^\d{5,32}$/, 'a numeric phone number id').describe('Phone number ID from the Meta app (WhatsApp → API Setup)'),
  wabaId: z.string().trim().regex(/^\d{5,32}$/, 'a numeric WhatsApp Business Account id').describe('WhatsApp Business Account ID'),
  accessToken: z.string().trim().min(20).max(1024).describe('A system-user access token with whatsapp_business_messaging'),
  appSecret: z.string().trim().min(16).max(256).describe("The Meta app's secret; signs every webhook"),
  verifyToken: z.string().trim().min(8).max(256).describe('The verify token you enter in the Meta app webhook settings'),
  template: whatsappTemplate.optional().describe('Approved template used when the 24-hour customer-service window has closed'),
});

export const whatsappChannelResponse = z.object({
  phoneNumberId: z.string(),
  wabaId: z.string(),
  displayPhoneNumber: z.string(),
  webhookUrl: z.string().nullable().describe('Callback URL to enter in the Meta app; null until PUBLIC_URL is set'),
  template: whatsappTemplate.nullable(),
});

export const whatsappConnectionResponse = whatsappChannelResponse.extend({
  verifyTokenHint: z.string().describe('The verify token’s last four characters (none for tokens under 12 characters), to compare with the Meta app'),
  status: z.enum(['connected', 'needs_public_url']).describe('needs_public_url: PUBLIC_URL is not set, so Meta has no webhook URL to call'),
});

export const whatsappDisconnectResponse = z.object({ phoneNumberId: z.string() });

const httpOrigin = z
  .string()
  .trim()
  .max(200)
  .refine((value) => {
    try {
      const url = new URL(value);
      // An origin names a site, nothing under it: scheme, host and port only.
      return (url.protocol === 'http:' || url.protocol === 'https:') && `${url.origin}` === value.replace(/\/$/, '') && !url.username && !url.password;
    } catch {
      return false;
    }
  }, 'must be an http(s) origin such as https://example.com, without a path');

export const webChannelBody = z.object({
  allowedOrigins: z.array(httpOrigin).max(20).optional().describe('Sites that may embed the chat (scheme://host[:port]); the platform itself always may'),
  title: z.string().trim().min(1).max(80).optional().describe("Shown at the top of the chat; the bot's name when absent"),
  accentColor: z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour as #rrggbb').optional().describe('Colour of the header and the visitor’s messages'),
  welcome: z.string().trim().min(1).max(500).optional().describe('The first message a visitor sees'),
});

export const webChannelResponse = z.object({
  chatUrl: z.string().describe('The public chat page: anyone with the link can talk to the bot, no key needed'),
  embedSnippet: z.string().describe('One <script> tag that adds the chat to a page on an allowed origin'),
});

export const webChannelSettingsResponse = webChannelResponse.extend({
  allowedOrigins: z.array(z.string()),
  title: z.string().nullable(),
  accentColor: z.string().nullable(),
  welcome: z.string().nullable(),
});
