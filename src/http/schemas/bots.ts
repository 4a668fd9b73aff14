import { z } from 'zod';
import { botSettingsPatchSchema, botSettingsSchema, storedBotSettingsSchema } from '../../bots/bot-settings.js';
import { CHANNELS } from '../../bots/bot.types.js';

const name = z.string().trim().min(1).max(200);
const persona = z.string().max(20_000).describe('How the bot presents itself and coaches');
const language = z
  .string()
  .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "must be a language code such as 'en', 'de' or 'pt-BR'")
  .describe("BCP-47 language code, e.g. 'en', 'de', 'pt-BR'");

export const createBotBody = z.object({
  name,
  persona: persona.optional(),
  language: language.optional(),
  settings: botSettingsSchema.optional(),
});

export const updateBotBody = z.object({
  name: name.optional(),
  persona: persona.optional(),
  language: language.optional(),
  settings: botSettingsPatchSchema.optional().describe('Merged into the stored settings; null resets a key to its default'),
});

export const botParams = z.object({ botId: z.string() });

export const botResponse = z.object({
  id: z.uuid(),
  name: z.string(),
  persona: z.string(),
  language: z.string(),
  settings: storedBotSettingsSchema,
  channels: z.array(z.looseObject({ channel: z.enum(CHANNELS) })).describe('Connected channels, public details only'),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export const botListResponse = z.object({ bots: z.array(botResponse) });
