import { z } from 'zod';

export const telegramChannelBody = z.object({
  token: z.string().trim().min(1).max(200).describe('The bot token from @BotFather'),
});

export const telegramChannelResponse = z.object({
  username: z.string().describe("The Telegram bot's username"),
});

export const telegramWebhookParams = z.object({ botId: z.string() });

export const webhookAck = z.object({ ok: z.literal(true) });
