import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const optionalUrl = z.string().url().optional();

// proxy-addr's names for whole ranges, which Fastify's `trustProxy` list also takes.
const proxyRangeNames = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isProxyAddress(entry: string): boolean {
  if (proxyRangeNames.has(entry)) return true;
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (!family || extra !== undefined) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** Comma-separated CIDRs (`10.1.2.3/32,fd00::/8`) that URL fetching may reach although they are not public. */
const cidrList = z
  .string()
  .trim()
  .transform((value, ctx): string[] => {
    const entries = value.split(',').map((e) => e.trim()).filter((e) => e !== '');
    const bad = entries.filter((e) => !e.includes('/') || !isProxyAddress(e));
    if (bad.length > 0) {
      ctx.addIssue({ code: 'custom', message: `must be comma-separated CIDR ranges such as 10.1.2.3/32 (not ${bad.join(', ')})` });
      return z.NEVER;
    }
    return entries;
  });

/**
 * Which proxies may set the client address (X-Forwarded-For), in the forms Fastify's `trustProxy`
 * takes: `false` (none: the socket's peer is the client), `true` (every hop), a hop count, or a
 * comma-separated list of proxy addresses and CIDRs.
 */
const trustProxySetting = z
  .string()
  .trim()
  .transform((value, ctx): boolean | number | string[] => {
    if (value === 'false') return false;
    if (value === 'true') return true;
    if (/^\d+$/.test(value)) return Number(value);
    const entries = value.split(',').map((e) => e.trim()).filter((e) => e !== '');
    const bad = entries.filter((e) => !isProxyAddress(e));
    if (entries.length === 0 || bad.length > 0) {
      ctx.addIssue({ code: 'custom', message: `must be true, false, a hop count or proxy addresses/CIDRs (not ${bad.join(', ') || 'empty'})` });
      return z.NEVER;
    }
    return entries;
  });

/** Every setting the platform reads, validated once at start-up. */
export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  PUBLIC_URL: optionalUrl,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().default('./data'),
  DATABASE_URL: optionalUrl,
  DATABASE_POOL_MAX: z.coerce.number().int().min(2).max(200).default(10),
  REDIS_URL: optionalUrl,
  QUEUE_PREFIX: z.string().regex(/^[a-zA-Z0-9_:-]+$/).default('coach'),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  ENCRYPTION_KEY: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (32 bytes)')
    .optional(),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).default(900),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(300).default(60 * 60 * 24 * 30),
  METRICS_TOKEN: z.string().min(8).optional(),
  TRUST_PROXY: trustProxySetting.default(false),
  RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(300),
  RATE_LIMIT_WINDOW: z.string().default('1 minute'),
  AUTH_RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(20),
  UPLOAD_MAX_BYTES: z.coerce.number().int().min(1024).default(25 * 1024 * 1024),
  URL_FETCH_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
  URL_FETCH_MAX_BYTES: z.coerce.number().int().min(1024).default(10 * 1024 * 1024),
  URL_FETCH_ALLOW_PRIVATE: booleanFlag.default(false),
  URL_FETCH_ALLOWED_RANGES: cidrList.default([]),
  // Websites: the server's cap on pages per site, the least time between two requests to one site
  // (robots.txt's Crawl-delay may ask more, up to the maximum), and how often sites are synced.
  CRAWL_MAX_PAGES: z.coerce.number().int().min(1).max(100_000).default(500),
  CRAWL_DELAY_MS: z.coerce.number().int().min(0).default(1000),
  CRAWL_MAX_DELAY_MS: z.coerce.number().int().min(0).default(30_000),
  SITE_SYNC_INTERVAL_HOURS: z.coerce.number().int().min(0).max(24 * 365).default(24),
  // Unset: on, except in production, where a demo account is seeded only when asked for explicitly.
  SEED_DEMO: booleanFlag.optional(),
  INGEST_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(2),
  // Reading documents (uploads, and files users send in chat) happens in child processes with these limits.
  // One core is left to the API: a reading process keeps a core busy for as long as it reads.
  INGEST_PARSE_PROCESSES: z.coerce.number().int().min(1).max(32).default(Math.max(1, Math.min(2, availableParallelism() - 1))),
  INGEST_PARSE_TIMEOUT_MS: z.coerce.number().int().min(100).default(120_000),
  INGEST_PARSE_MAX_HEAP_MB: z.coerce.number().int().min(32).max(16_384).default(512),
  INGEST_MAX_PAGES: z.coerce.number().int().min(1).default(2_000),
  INGEST_MAX_PARAGRAPHS: z.coerce.number().int().min(1).default(50_000),
  INGEST_MAX_TEXT_CHARS: z.coerce.number().int().min(1000).default(5_000_000),
  INGEST_MAX_DECOMPRESSED_BYTES: z.coerce.number().int().min(1024).default(100 * 1024 * 1024),
  INGEST_LOCK_DURATION_MS: z.coerce.number().int().min(500).default(60_000),
  INGEST_STALLED_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  CHUNK_SIZE: z.coerce.number().int().min(200).max(8000).default(1000),
  CHUNK_OVERLAP: z.coerce.number().int().min(0).max(2000).default(150),
  LLM_PROVIDER: z.enum(['auto', 'ollama', 'extractive']).default('auto'),
  OLLAMA_HOST: z.string().url().default('http://127.0.0.1:11434'),
  // The fetch the Ollama, Telegram and WhatsApp clients send through (src/http-client/outgoing-fetch.ts).
  HTTP_CLIENT: z.enum(['lean', 'fetch']).default('lean'),
  OLLAMA_CHAT_MODEL: z.string().default('llama3.2:3b'),
  OLLAMA_EMBED_MODEL: z.string().default('nomic-embed-text'),
  // Operator caps on what a bot may ask of the shared model server; bot settings can only go lower.
  MAX_CONTEXT_TOKENS: z.coerce.number().int().min(256).max(1_048_576).default(8192),
  MAX_ANSWER_TOKENS: z.coerce.number().int().min(16).max(32_768).default(1024),
  CONTACT_MESSAGES_PER_MINUTE: z.coerce.number().int().min(1).default(20),
  BOT_MODEL_CALLS_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  WEB_CHAT_VISITOR_DAILY_MESSAGES: z.coerce.number().int().min(1).default(50),
  WEB_CHAT_IP_DAILY_MESSAGES: z.coerce.number().int().min(1).default(200),
  WEB_CHAT_BOT_DAILY_MESSAGES: z.coerce.number().int().min(1).default(2000),
  WEB_CHAT_MAX_CHARS: z.coerce.number().int().min(1).max(4000).default(1000),
  EMBED_BATCH_SIZE: z.coerce.number().int().min(1).max(512).default(32),
  // BM25 for full-text retrieval: k1 is how fast repeats of a term stop adding, b how much a long
  // chunk is discounted against the bot's average.
  RETRIEVAL_BM25_K1: z.coerce.number().min(0).max(10).default(1.2),
  RETRIEVAL_BM25_B: z.coerce.number().min(0).max(1).default(0.75),
  VECTOR_STORE: z.enum(['pgvector', 'chroma']).default('pgvector'),
  CHROMA_URL: z.string().url().default('http://127.0.0.1:8000'),
  TELEGRAM_API_ROOT: z.string().url().default('https://api.telegram.org'),
  TELEGRAM_THROTTLE: booleanFlag.default(true),
  CONVERSE_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  CONVERSE_PER_CREATOR: z.coerce.number().int().min(1).max(64).default(2),
  CONVERSE_LOCK_DURATION_MS: z.coerce.number().int().min(500).default(60_000),
  CONVERSE_STALLED_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  PROACTIVE_LOCK_DURATION_MS: z.coerce.number().int().min(500).default(60_000),
  PROACTIVE_STALLED_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(50).default(30_000),
  RECONCILE_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  // A conversation taken over with no creator message for this long goes back to the bot (checked every RECONCILE_INTERVAL_MS).
  TAKEOVER_IDLE_RELEASE_MINUTES: z.coerce.number().int().min(1).max(7 * 24 * 60).default(30),
  WHATSAPP_GRAPH_URL: z.string().url().default('https://graph.facebook.com'),
  WHATSAPP_MESSAGES_PER_SECOND: z.coerce.number().positive().max(1000).default(80),
  WHATSAPP_RECIPIENT_GAP_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  MEDIA_MAX_BYTES: z.coerce.number().int().min(1024).default(16 * 1024 * 1024),
  MEDIA_STORAGE: z.enum(['local', 's3']).default('local'),
  S3_BUCKET: z.string().trim().min(3).max(63).optional(),
  S3_ENDPOINT: optionalUrl,
  S3_REGION: z.string().default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_FORCE_PATH_STYLE: booleanFlag.optional(),
  S3_PREFIX: z.string().optional(),
  STRIPE_API_BASE: optionalUrl,
  STRIPE_SECRET_KEY: z.string().optional(),
  STRIPE_WEBHOOK_SECRET: z.string().optional(),
  // Parsed by src/billing/plans.ts at start-up; a broken list stops the process naming PLANS_JSON.
  PLANS_JSON: z.string().optional(),
  BILLING_SUCCESS_URL: optionalUrl,
  BILLING_CANCEL_URL: optionalUrl,
  BILLING_RETURN_URL: optionalUrl,
  SENDGRID_API_BASE: optionalUrl,
  SENDGRID_API_KEY: z.string().optional(),
  SENDGRID_WEBHOOK_PUBLIC_KEY: z.string().optional(),
  MAIL_FROM: z.email().default('no-reply@coachbot.local'),
  MAIL_FROM_NAME: z.string().trim().min(1).max(100).default('Coachbot'),
  MAIL_SUPPORT_EMAIL: z.email().optional(),
  DASHBOARD_URL: optionalUrl,
  EMAIL_VERIFY_TTL_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(48),
  PASSWORD_RESET_TTL_MINUTES: z.coerce.number().int().min(5).max(24 * 60).default(30),
  PASSWORD_RESETS_PER_HOUR: z.coerce.number().int().min(1).max(100).default(3),
  DIGEST_DAY: z.enum(['off', 'sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday']).default('monday'),
  DIGEST_HOUR: z.coerce.number().int().min(0).max(23).default(8),
  EMAIL_SCHEDULER_INTERVAL_MS: z.coerce.number().int().min(1000).default(5 * 60_000),
  /** Live event streams (`GET /v1/bots/:botId/events`) one creator may hold open across every API process. */
  EVENTS_MAX_STREAMS_PER_CREATOR: z.coerce.number().int().min(1).max(1000).default(10),
  /** How long a stream ticket (`POST /v1/bots/:botId/events/ticket`) may be used to open the stream. */
  EVENTS_TICKET_TTL_SECONDS: z.coerce.number().int().min(5).max(3600).default(60),
  /** How long an open stream counts toward the cap without its process renewing it (a crashed process's streams stop counting after this). */
  EVENTS_STREAM_LEASE_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
  /** How often open streams are checked against sign-outs and deleted API keys (and closed when theirs ended). */
  EVENTS_CREDENTIAL_CHECK_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
});

export type RawConfig = Omit<z.infer<typeof configSchema>, 'SEED_DEMO'> & {
  SEED_DEMO: boolean;
  /** OLLAMA_HOST was given rather than defaulted: the operator expects a model server there. */
  OLLAMA_HOST_SET: boolean;
};

/** Configuration after secrets have been resolved: what the rest of the platform receives. */
export type Config = Omit<RawConfig, 'JWT_SECRET' | 'ENCRYPTION_KEY'> & {
  JWT_SECRET: string;
  ENCRYPTION_KEY: string;
  dataDir: string;
};

/** Raised when the environment does not satisfy the schema; the message names each variable. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws ConfigError naming every offending variable. */
export function parseConfig(env: NodeJS.ProcessEnv = process.env): RawConfig {
  // Empty strings mean "unset": docker-compose and shells often pass VAR= for optional values.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = configSchema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  if (result.data.MEDIA_STORAGE === 's3' && !result.data.S3_BUCKET) throw new ConfigError(['S3_BUCKET: required when MEDIA_STORAGE=s3']);
  return { ...result.data, SEED_DEMO: result.data.SEED_DEMO ?? result.data.NODE_ENV !== 'production', OLLAMA_HOST_SET: 'OLLAMA_HOST' in cleaned };
}

/**
 * Reads a secret from the data directory, creating it on first use, so `npm start` needs no set-up
 * while the value survives restarts (tokens and encrypted credentials stay valid).
 */
function persistedSecret(dataDir: string, name: string, create: () => string): string {
  const file = path.join(dataDir, 'secrets', name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const value = create();
  try {
    writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process sharing the data directory wrote it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw err;
  }
  return value;
}

/** Where visitors and providers reach the platform: PUBLIC_URL, or this machine's port; no trailing slash. */
export function platformBaseUrl(config: Pick<Config, 'PUBLIC_URL' | 'PORT'>): string {
  return (config.PUBLIC_URL ?? `http://localhost:${config.PORT}`).replace(/\/+$/, '');
}

/** Parses the environment and fills unset secrets from (or into) the data directory. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw = parseConfig(env);
  const dataDir = path.resolve(raw.DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  return {
    ...raw,
    dataDir,
    JWT_SECRET: raw.JWT_SECRET ?? persistedSecret(dataDir, 'jwt-secret', () => randomBytes(48).toString('base64url')),
    ENCRYPTION_KEY: raw.ENCRYPTION_KEY ?? persistedSecret(dataDir, 'encryption-key', () => randomBytes(32).toString('hex')),
  };
}
