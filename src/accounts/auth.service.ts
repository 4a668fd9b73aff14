import { randomUUID } from 'node:crypto';
import { ConflictError, UnauthorizedError } from '../errors/app.errors.js';
import { hashToken, randomToken } from '../security/tokens.js';
import type { Creator, CreatorStore, RefreshTokenStore, TokenVersions } from './account.types.js';
import { hashPassword, verifyAgainstDummy, verifyPassword } from './password.js';

/** The outcome of signing up, logging in or refreshing; the HTTP layer adds the access token. */
export interface Session {
  creator: Creator;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  /** The creator's token version, for the access token: raising it ends the session. */
  tokenVersion: number;
  /** The login this session belongs to (its refresh token family), for the access token to name. */
  sessionId: string;
}

export interface AuthServiceOptions {
  creators: CreatorStore;
  refreshTokens: RefreshTokenStore;
  refreshTokenTtlSeconds: number;
  /** The creators' current token versions (cached briefly); access tokens of older versions are refused. */
  tokenVersions: TokenVersions;
  /** Runs after a creator is stored (e.g. sends the verification email); it must not throw. */
  onSignup?: (creator: Creator) => Promise<void>;
  now?: () => Date;
}

const INVALID_CREDENTIALS = 'Invalid email or password';
const INVALID_REFRESH = 'Invalid or expired refresh token';

/** Creator sign-up, password login and rotating refresh tokens. */
export class AuthService {
  private readonly now: () => Date;

  constructor(private readonly options: AuthServiceOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** Creates a creator and opens a session; EMAIL_TAKEN (409) when the email is registered in any case. */
  async signup(input: { email: string; password: string; name: string }): Promise<Session> {
    const email = input.email.trim();
    // Cheap pre-check so a taken email does not cost an argon2 hash; the unique index decides races.
    if (await this.options.creators.findByEmail(email)) throw emailTaken();
    const passwordHash = await hashPassword(input.password);
    const creator = await this.options.creators.insert({ email, name: input.name.trim(), passwordHash });
    if (!creator) throw emailTaken();
    await this.options.onSignup?.(creator);
    return this.openSession(creator, randomUUID());
  }

  /** Checks credentials; the same 401 for an unknown email and a wrong password. */
  async login(input: { email: string; password: string }): Promise<Session> {
    const found = await this.options.creators.findByEmail(input.email.trim());
    const ok = found ? await verifyPassword(found.passwordHash, input.password) : await verifyAgainstDummy(input.password);
    if (!found || !ok) throw new UnauthorizedError(INVALID_CREDENTIALS);
    return this.openSession({ id: found.id, email: found.email, name: found.name }, randomUUID());
  }

  /**
   * Exchanges a refresh token for a new one (single use). Presenting a token that was already
   * rotated means it leaked or was replayed, so its whole family is revoked.
   */
  async refresh(refreshToken: string): Promise<Session> {
    const oldHash = hashToken(refreshToken);
    const next = this.newRefreshToken();
    const rotated = await this.options.refreshTokens.rotate(oldHash, { tokenHash: next.hash, expiresAt: next.expiresAt });
    if (!rotated) {
      const stored = await this.options.refreshTokens.findByHash(oldHash);
      if (stored?.rotatedAt) await this.options.refreshTokens.revokeFamily(stored.familyId);
      throw new UnauthorizedError(INVALID_REFRESH);
    }
    const creator = await this.options.creators.findById(rotated.creatorId);
    if (!creator) throw new UnauthorizedError(INVALID_REFRESH);
    return { creator, refreshToken: next.token, refreshTokenExpiresAt: next.expiresAt, tokenVersion: await this.currentVersion(creator.id), sessionId: rotated.familyId };
  }

  /**
   * Whether an access token of `creatorId` carrying `version` is still good: false once the
   * creator's sessions were ended (the version rose), and for a creator that does not exist.
   */
  async acceptsAccessToken(creatorId: string, version: number): Promise<boolean> {
    let current = await this.options.tokenVersions.get(creatorId);
    // Newer than the cached version: issued after another process ended the sessions; read again.
    if (current !== null && version > current) current = await this.options.tokenVersions.refresh(creatorId);
    return current === version;
  }

  /**
   * Ends the session the refresh token belongs to (its whole family); without a token, ends every
   * session of the creator, since an access token alone does not say which session it came from:
   * every refresh token is revoked and every access token stops working at once.
   */
  async logout(creatorId: string, refreshToken?: string): Promise<void> {
    if (refreshToken === undefined) {
      await this.options.refreshTokens.revokeAllForCreator(creatorId);
      this.options.tokenVersions.invalidate(creatorId);
      return;
    }
    const stored = await this.options.refreshTokens.findByHash(hashToken(refreshToken));
    // Another creator's token is left alone: knowing it must not let a caller end someone else's session.
    if (stored && stored.creatorId === creatorId) await this.options.refreshTokens.revokeFamily(stored.familyId);
  }

  private async openSession(creator: Creator, familyId: string): Promise<Session> {
    const next = this.newRefreshToken();
    await this.options.refreshTokens.insert({ creatorId: creator.id, familyId, tokenHash: next.hash, expiresAt: next.expiresAt });
    return { creator, refreshToken: next.token, refreshTokenExpiresAt: next.expiresAt, tokenVersion: await this.currentVersion(creator.id), sessionId: familyId };
  }

  // Read fresh, not from the cache: a token issued right after a logout from everywhere must carry the new version.
  private async currentVersion(creatorId: string): Promise<number> {
    const version = await this.options.creators.tokenVersion(creatorId);
    if (version === null) throw new UnauthorizedError(INVALID_CREDENTIALS);
    return version;
  }

  private newRefreshToken() {
    const token = randomToken();
    const expiresAt = new Date(this.now().getTime() + this.options.refreshTokenTtlSeconds * 1000);
    return { token, hash: hashToken(token), expiresAt };
  }
}

function emailTaken() {
  return new ConflictError('EMAIL_TAKEN', 'An account with this email already exists');
}
