import { AppError, NotFoundError } from '../errors/app.errors.js';
import { hashToken, randomToken } from '../security/tokens.js';
import type { AccountLink, AccountMailer, AccountTokenPurpose, AccountTokenStore, Creator, CreatorStore } from './account.types.js';
import { hashPassword } from './password.js';

/** A verification or reset token that is unknown, used or expired: one answer for all three. */
export class InvalidTokenError extends AppError {
  constructor() {
    super('INVALID_TOKEN', 400, 'This link is invalid, was already used or has expired; ask for a new one');
    this.name = 'InvalidTokenError';
  }
}

export interface AccountEmailServiceOptions {
  creators: Pick<CreatorStore, 'findByEmail' | 'findById'>;
  tokens: AccountTokenStore;
  mailer: AccountMailer;
  verifyTtlSeconds: number;
  resetTtlSeconds: number;
  /** Reset emails one address may receive per hour; further requests are accepted and ignored. */
  resetsPerHour: number;
  /** Told when a reset ended every session of a creator, so this process forgets its cached token version. */
  onSessionsEnded?: ((creatorId: string) => void) | undefined;
  /** Told about requests answered without an email (unknown address, hourly cap), for the log. */
  onResetSkipped?: (reason: 'unknown_email' | 'rate_limited') => void;
  now?: () => Date;
}

/**
 * Email verification and password reset through single-use, expiring links. Tokens are 32 random
 * bytes; only their SHA-256 is stored, so a database leak hands out no working link.
 */
export class AccountEmailService {
  private readonly now: () => Date;

  constructor(private readonly options: AccountEmailServiceOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** Emails a new creator the link that confirms their address. */
  async requestVerification(creator: Creator): Promise<void> {
    const link = await this.issue(creator, 'verify-email', this.options.verifyTtlSeconds);
    await this.options.mailer.verifyEmail(creator, link);
  }

  /** Sends a fresh verification link unless the address is verified already; says which. */
  async resendVerification(creatorId: string): Promise<{ alreadyVerified: boolean }> {
    const creator = await this.options.creators.findById(creatorId);
    if (!creator) throw new NotFoundError('Creator');
    if (await this.options.tokens.isEmailVerified(creatorId)) return { alreadyVerified: true };
    await this.requestVerification(creator);
    return { alreadyVerified: false };
  }

  /** Confirms the address a verification link was sent to; INVALID_TOKEN (400) otherwise. */
  async confirmEmail(token: string): Promise<{ email: string }> {
    const confirmed = await this.options.tokens.confirmEmail(hashToken(token));
    if (!confirmed) throw new InvalidTokenError();
    return { email: confirmed.email };
  }

  /**
   * Emails a reset link when the address belongs to a creator. Resolves the same way whether it
   * does or not, so the answer reveals nothing about which addresses have accounts.
   */
  async requestPasswordReset(email: string): Promise<void> {
    const found = await this.options.creators.findByEmail(email.trim());
    if (!found) return this.options.onResetSkipped?.('unknown_email');
    const since = new Date(this.now().getTime() - 3_600_000);
    // Caps mail to one address however many clients ask: the route's per-client limit alone does not.
    if ((await this.options.tokens.countSince(found.id, 'password-reset', since)) >= this.options.resetsPerHour) {
      return this.options.onResetSkipped?.('rate_limited');
    }
    const creator: Creator = { id: found.id, email: found.email, name: found.name };
    const link = await this.issue(creator, 'password-reset', this.options.resetTtlSeconds);
    await this.options.mailer.passwordReset(creator, link);
  }

  /** Sets a new password with a reset link and ends every session; INVALID_TOKEN (400) otherwise. */
  async resetPassword(token: string, password: string): Promise<void> {
    const tokenHash = hashToken(token);
    // Cheap check first, so a guessed token costs no argon2 hash; the reset itself re-checks atomically.
    if (!(await this.options.tokens.isLive('password-reset', tokenHash))) throw new InvalidTokenError();
    const passwordHash = await hashPassword(password);
    const reset = await this.options.tokens.resetPassword(tokenHash, passwordHash);
    if (!reset) throw new InvalidTokenError();
    this.options.onSessionsEnded?.(reset.creatorId);
  }

  private async issue(creator: Creator, purpose: AccountTokenPurpose, ttlSeconds: number): Promise<AccountLink> {
    const token = randomToken();
    const expiresAt = new Date(this.now().getTime() + ttlSeconds * 1000);
    const { id } = await this.options.tokens.issue({ creatorId: creator.id, purpose, tokenHash: hashToken(token), email: creator.email, expiresAt });
    return { tokenId: id, token, expiresAt };
  }
}
