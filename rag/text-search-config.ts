/**
 * PostgreSQL text-search configurations by language, so full-text search stems and drops stop words
 * the way the bot's language needs. Shared by ingestion (chunks.ts_config) and retrieval (the query).
 */

// Built-in configurations of PostgreSQL 15, keyed by ISO 639-1 code.
const configsByCode: Record<string, string> = {
  ar: 'arabic',
  hy: 'armenian',
  eu: 'basque',
  ca: 'catalan',
  da: 'danish',
  nl: 'dutch',
  en: 'english',
  fi: 'finnish',
  fr: 'french',
  de: 'german',
  el: 'greek',
  hi: 'hindi',
  hu: 'hungarian',
  id: 'indonesian',
  ga: 'irish',
  it: 'italian',
  lt: 'lithuanian',
  ne: 'nepali',
  no: 'norwegian',
  nb: 'norwegian',
  nn: 'norwegian',
  pt: 'portuguese',
  ro: 'romanian',
  ru: 'russian',
  sr: 'serbian',
  es: 'spanish',
  sv: 'swedish',
  ta: 'tamil',
  tr: 'turkish',
  yi: 'yiddish',
};

const configNames = new Set(Object.values(configsByCode));

/** The fallback: no stemming, no stop words; right for any language PostgreSQL has no dictionary for. */
export const DEFAULT_TEXT_SEARCH_CONFIG = 'simple';

/**
 * Maps a bot language ('en', 'pt-BR', 'de_DE', 'German') to a PostgreSQL text-search configuration
 * name; unknown languages get 'simple'. The result is always one of a fixed set of identifiers.
 */
export function textSearchConfig(language: string | null | undefined): string {
  const normalised = (language ?? '').trim().toLowerCase();
  if (configNames.has(normalised)) return normalised;
  const code = normalised.split(/[-_]/)[0] ?? '';
  return configsByCode[code] ?? DEFAULT_TEXT_SEARCH_CONFIG;
}
