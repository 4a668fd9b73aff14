import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ApiKeyService } from '../accounts/api-key.service.js';
import type { AuthService } from '../accounts/auth.service.js';
import type { BotService } from '../bots/bot.service.js';
import { ConflictError } from '../errors/app.errors.js';
import type { WebPublicationService } from '../conversation/web-publication.service.js';
import type { DocumentService } from '../knowledge/document.service.js';
import type { Logger } from '../observability/logger.js';

export const DEMO_EMAIL = 'demo@coach.local';
export const DEMO_BOT_NAME = 'Steady Habits Coach';

const DEMO_WELCOME = "Hi! I'm the Steady Habits coach. I answer from Maya Brooks's coaching guide: ask me about starting a habit, sleep, moving, eating or stress.";

const DEMO_PERSONA = [
  'You are the Steady Habits Coach, a warm and encouraging habit coach created by Maya Brooks.',
  'You help people build small, sustainable habits around sleep, movement and focus.',
  'Keep answers short and practical, suggest one next step at a time, and celebrate small wins.',
  'Answer from the coaching guide; when it does not cover a question, say so kindly.',
].join(' ');

/** The guide shipped in examples/, relative to this file (src/demo → repository root). */
export const DEFAULT_GUIDE_PATH = fileURLToPath(new URL('../../examples/coaching-guide.md', import.meta.url));
/** The address the terminal chat (scripts/chat.ts) talks to unless given `--url`. */
export const DEFAULT_CHAT_URL = 'http://localhost:3000';

export interface DemoSeedDeps {
  hasCreators(): Promise<boolean>;
  auth: Pick<AuthService, 'signup'>;
  apiKeys: Pick<ApiKeyService, 'create'>;
  bots: Pick<BotService, 'create'>;
  documents: Pick<DocumentService, 'upload' | 'get'>;
  /** Publishes the demo bot's public web chat, so it opens without a key. */
  webChat: Pick<WebPublicationService, 'publish'>;
  logger: Pick<Logger, 'info' | 'warn'>;
  /** Where the plain credentials block goes (the console in `npm start`). */
  print(text: string): void;
}

export interface DemoSeedOptions {
  /** Base address the chat link starts with, e.g. http://localhost:3000. */
  baseUrl: string;
  /**
   * Print the demo's password and API key (development only: elsewhere the console is collected
   * into logs, where credentials must never land).
   */
  showCredentials: boolean;
  guidePath?: string;
  /** How long to wait for the guide to be read before printing the link anyway (default 60 s). */
  readWaitMs?: number;
}

const READ_POLL_MS = 200;

/** Waits until the document is read (true) or failed, or `waitMs` passed (false). */
async function documentRead(deps: DemoSeedDeps, creatorId: string, botId: string, documentId: string, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const { status } = await deps.documents.get(creatorId, botId, documentId);
    if (status === 'ready' || status === 'failed') return status === 'ready';
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, READ_POLL_MS));
  }
}

export interface DemoSeed {
  creatorId: string;
  email: string;
  password: string;
  apiKey: string;
  botId: string;
  documentId: string;
  chatUrl: string;
}

/**
 * First run: when nobody has signed up yet, creates a demo creator, an API key and a bot that
 * answers from the example coaching guide, and prints how to try it. Never touches a platform
 * that has any creator, so it is safe on every start and when two processes start together.
 */
/** The terminal chat command for a bot, with `--url` whenever the platform is not at the default address. */
export function terminalChatCommand(baseUrl: string, botId: string, apiKey: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  return `npm run chat -- --bot ${botId}${base === DEFAULT_CHAT_URL ? '' : ` --url ${base}`} --token ${apiKey}`;
}

export async function seedDemo(deps: DemoSeedDeps, options: DemoSeedOptions): Promise<DemoSeed | null> {
  if (await deps.hasCreators()) return null;
  const password = randomBytes(12).toString('base64url');
  let creatorId: string;
  try {
    const session = await deps.auth.signup({ email: DEMO_EMAIL, password, name: 'Demo Coach' });
    creatorId = session.creator.id;
  } catch (err) {
    // Another process seeded between our check and the sign-up: theirs stands.
    if (err instanceof ConflictError) return null;
    throw err;
  }
  const apiKey = await deps.apiKeys.create(creatorId, 'demo');
  const bot = await deps.bots.create(creatorId, { name: DEMO_BOT_NAME, persona: DEMO_PERSONA, language: 'en' });
  const bytes = await readFile(options.guidePath ?? DEFAULT_GUIDE_PATH);
  const document = await deps.documents.upload(creatorId, bot.id, {
    bytes,
    filename: 'coaching-guide.md',
    mediaType: 'text/markdown',
    title: 'The Steady Habits Coaching Guide',
  });
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  // Published at once: a newcomer opens the chat with no key to paste.
  const { chatUrl } = await deps.webChat.publish(creatorId, bot.id, { welcome: DEMO_WELCOME });

  const seed: DemoSeed = { creatorId, email: DEMO_EMAIL, password, apiKey: apiKey.key, botId: bot.id, documentId: document.id, chatUrl };
  // The link is printed once the guide is read, so the first question finds it.
  deps.logger.info({ documentId: document.id }, 'demo: reading the coaching guide…');
  const read = await documentRead(deps, creatorId, bot.id, document.id, options.readWaitMs ?? 60_000);
  if (!read) deps.logger.warn({ documentId: document.id }, 'demo: the guide is not read yet; the chat answers from it once it is');

  // Printed once on purpose: a fresh install has no other way to hand over the demo credentials.
  // The password and key go to the console once, in development only, never into the structured log.
  deps.logger.info(
    { chatUrl, email: DEMO_EMAIL, botId: bot.id },
    `demo seeded: open ${chatUrl}; ${options.showCredentials ? 'credentials printed on the console' : 'credentials are shown only with NODE_ENV=development'}`,
  );
  const credentials = options.showCredentials
    ? [
        `  API key:   ${apiKey.key}`,
        `  Login:     ${DEMO_EMAIL} / ${password}`,
        '  (shown once; the demo is created only while no creator exists)',
        `  Terminal:  ${terminalChatCommand(baseUrl, bot.id, apiKey.key)}`,
      ]
    : [`  Login:     ${DEMO_EMAIL} (password and API key are shown only with NODE_ENV=development)`];
  deps.print(
    [
      '',
      '──────────────── Demo coach ready ────────────────',
      `  Web chat:  ${chatUrl}  (open to anyone, no key needed)`,
      `  Dashboard: ${baseUrl}/app  (sign in with the login below)`,
      ...credentials,
      '──────────────────────────────────────────────────',
      '',
    ].join('\n'),
  );
  return seed;
}
