import { z } from 'zod';

// Each field without its default, so a partial update cannot silently reset fields it leaves out.
const fields = {
  model: z.string().trim().min(1).max(200).describe('LLM model name; the platform default when unset'),
  temperature: z.number().min(0).max(2).describe('Sampling temperature, 0–2'),
  contextSize: z.int().min(256).max(1_048_576).describe("Context window in tokens; at most the server's MAX_CONTEXT_TOKENS"),
  maxAnswerTokens: z.int().min(16).max(32_768).describe("Upper bound on tokens in one reply; at most the server's MAX_ANSWER_TOKENS"),
  embeddingModel: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .describe("Embedding model (Ollama) of the bot's documents; the platform default (OLLAMA_EMBED_MODEL) when unset. Changing it re-embeds them in the background"),
  welcomeMessage: z.string().max(4000).describe('Sent when an end user starts a conversation'),
  unknownAnswer: z.string().max(4000).describe('Said when the material holds no answer'),
  citeSources: z.boolean().describe('Whether replies name the documents they draw on'),
  mergeWindowMs: z.int().min(0).max(60_000).describe('Messages arriving this close together become one turn'),
  quietHoursStart: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a 24-hour time such as 21:00')
    .describe('Contact-local time from which program steps wait until quietHoursEnd (default 21:00)'),
  quietHoursEnd: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a 24-hour time such as 08:00')
    .describe('Contact-local time at which quiet hours end (default 08:00); equal to the start: no quiet hours'),
  humanHandoffPhrases: z
    .array(z.string().trim().min(2).max(100))
    .max(20)
    .describe('Phrases with which an end user asks for a person, besides /human (e.g. "talk to a human"); matched as whole words, ignoring case and punctuation'),
};

const defaults = { temperature: 0.3, citeSources: true, mergeWindowMs: 1500 } as const;

const shapeWithDefaults = {
  model: fields.model.optional(),
  temperature: fields.temperature.default(defaults.temperature),
  contextSize: fields.contextSize.optional(),
  maxAnswerTokens: fields.maxAnswerTokens.optional(),
  embeddingModel: fields.embeddingModel.optional(),
  welcomeMessage: fields.welcomeMessage.optional(),
  unknownAnswer: fields.unknownAnswer.optional(),
  citeSources: fields.citeSources.default(defaults.citeSources),
  mergeWindowMs: fields.mergeWindowMs.default(defaults.mergeWindowMs),
  quietHoursStart: fields.quietHoursStart.optional(),
  quietHoursEnd: fields.quietHoursEnd.optional(),
  humanHandoffPhrases: fields.humanHandoffPhrases.optional(),
};

/** A bot's settings as given on creation: unknown keys rejected, defaults filled in. */
export const botSettingsSchema = z.strictObject(shapeWithDefaults);

/** Settings as stored and returned; lenient about keys a newer or older version may have written. */
export const storedBotSettingsSchema = z.object(shapeWithDefaults);

/** A partial settings update: given keys replace stored ones, `null` resets a key to its default. */
export const botSettingsPatchSchema = z.strictObject(
  Object.fromEntries(Object.entries(fields).map(([key, schema]) => [key, schema.nullable().optional()])) as {
    [K in keyof typeof fields]: z.ZodOptional<z.ZodNullable<(typeof fields)[K]>>;
  },
);

export type BotSettings = z.output<typeof botSettingsSchema>;
export type BotSettingsInput = z.input<typeof botSettingsSchema>;
export type BotSettingsPatch = z.output<typeof botSettingsPatchSchema>;

/** Reads stored settings, filling defaults for anything unset. */
export function readBotSettings(stored: unknown): BotSettings {
  return storedBotSettingsSchema.parse(stored ?? {});
}
