import { AccountEmailService } from '../accounts/account-email.service.js';
import { ApiKeyService } from '../accounts/api-key.service.js';
import { AuthService } from '../accounts/auth.service.js';
import { CredentialService } from '../accounts/credential.service.js';
import { PerBotCache } from '../cache/per-bot.cache.js';
import type { Config } from '../config.js';
import { AccountTokenRepository } from '../db/account-token.repository.js';
import { ApiKeyRepository } from '../db/api-key.repository.js';
import { CreatorRepository } from '../db/creator.repository.js';
import { RefreshTokenRepository } from '../db/refresh-token.repository.js';
import type { Logger } from '../observability/logger.js';
import type { EmailModule } from './email.module.js';
import type { InfrastructureModule } from './infrastructure.module.js';
import type { ModuleLifecycle } from './module.types.js';

/** Creators, their sessions, email verification and password resets, and API keys. */
export interface AccountsModule extends ModuleLifecycle {
  creators: CreatorRepository;
  auth: AuthService;
  /** Email verification and password reset. */
  accountEmail: AccountEmailService;
  apiKeys: ApiKeyService;
  /** Whether a session or API key a creator presented still stands (live event streams end with theirs). */
  credentials: CredentialService;
  /** Whether any creator has signed up (the first-run demo seeds only an empty platform). */
  hasCreators(): Promise<boolean>;
}

/** Builds the account services; their emails go through `email.notifications`. */
export function createAccountsModule({
  config,
  logger,
  infrastructure,
  email,
}: {
  config: Config;
  logger: Logger;
  infrastructure: InfrastructureModule;
  email: EmailModule;
}): AccountsModule {
  const { pool } = infrastructure.database;
  const creators = new CreatorRepository(pool);
  // Read on every authenticated request, kept a few seconds; a logout or reset in this process clears it at once.
  const tokenVersions = new PerBotCache((creatorId) => creators.tokenVersion(creatorId), { ttlMs: 5_000 });
  const accountEmail = new AccountEmailService({
    creators,
    tokens: new AccountTokenRepository(pool),
    mailer: email.notifications,
    verifyTtlSeconds: config.EMAIL_VERIFY_TTL_HOURS * 3600,
    resetTtlSeconds: config.PASSWORD_RESET_TTL_MINUTES * 60,
    resetsPerHour: config.PASSWORD_RESETS_PER_HOUR,
    // A password reset ended every session of the creator: this process forgets its cached token version.
    onSessionsEnded: (creatorId) => tokenVersions.invalidate(creatorId),
    onResetSkipped: (reason) => logger.info({ reason }, 'password reset requested; no email sent'),
  });
  const refreshTokens = new RefreshTokenRepository(pool);
  const apiKeyStore = new ApiKeyRepository(pool);
  const auth = new AuthService({
    creators,
    refreshTokens,
    refreshTokenTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
    tokenVersions,
    // The verification link is emailed; a failure is logged and never fails the signup.
    onSignup: (creator) =>
      accountEmail.requestVerification(creator).catch((err: unknown) => logger.warn({ err, creatorId: creator.id }, 'email: verification email could not be queued')),
  });
  return {
    creators,
    auth,
    accountEmail,
    apiKeys: new ApiKeyService(apiKeyStore),
    credentials: new CredentialService({ creators, refreshTokens, apiKeys: apiKeyStore }),
    hasCreators: () => creators.any(),
  };
}
