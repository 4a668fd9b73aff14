/** A creator as the rest of the platform sees it. */
export interface Creator {
  id: string;
  email: string;
  name: string;
}

/** A creator with the password hash, only for checking credentials. */
export interface CreatorWithPassword extends Creator {
  passwordHash: string;
}

/** Persistence port for creators (implemented in src/db/creator.repository.ts). */
export interface CreatorStore {
  /** Inserts a creator; null when the email (compared case-insensitively) is already taken. */
  insert(input: { email: string; name: string; passwordHash: string }): Promise<Creator | null>;
  findByEmail(email: string): Promise<CreatorWithPassword | null>;
  findById(id: string): Promise<Creator | null>;
  /** The version every live access token of the creator carries; null for an unknown creator. */
  tokenVersion(id: string): Promise<number | null>;
}

/**
 * Creators' token versions as read on every authenticated request: cached briefly per process;
 * whoever raises a version in this process forgets it at once.
 */
export interface TokenVersions {
  get(creatorId: string): Promise<number | null>;
  /** Reads the version again, bypassing the cache. */
  refresh(creatorId: string): Promise<number | null>;
  invalidate(creatorId: string): void;
}

export interface StoredRefreshToken {
  creatorId: string;
  familyId: string;
  expiresAt: Date;
  rotatedAt: Date | null;
  revokedAt: Date | null;
}

/** Persistence port for refresh tokens, kept only as hashes (src/db/refresh-token.repository.ts). */
export interface RefreshTokenStore {
  insert(input: { creatorId: string; familyId: string; tokenHash: string; expiresAt: Date }): Promise<void>;
  /**
   * Atomically marks a live (unrotated, unrevoked, unexpired) token rotated and stores its successor
   * in the same family; null when `oldHash` is not live.
   */
  rotate(oldHash: string, next: { tokenHash: string; expiresAt: Date }): Promise<{ creatorId: string; familyId: string } | null>;
  findByHash(tokenHash: string): Promise<StoredRefreshToken | null>;
  revokeFamily(familyId: string): Promise<void>;
  /** Whether the creator's login `familyId` still has a usable refresh token (not signed out, not expired). */
  familyLive(creatorId: string, familyId: string): Promise<boolean>;
  /** Ends every session of the creator: all refresh tokens revoked and the token version raised. */
  revokeAllForCreator(creatorId: string): Promise<void>;
}

/** An API key's public description; the secret itself is never stored. */
export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** Persistence port for API keys (src/db/api-key.repository.ts). */
export interface ApiKeyStore {
  insert(input: { creatorId: string; name: string; prefix: string; keyHash: string }): Promise<ApiKey>;
  listByCreator(creatorId: string): Promise<ApiKey[]>;
  /** Deletes the creator's key; false when no such key belongs to the creator. */
  delete(creatorId: string, id: string): Promise<boolean>;
  /** Returns the owning creator and the key's id, and records the use; null for an unknown hash. */
  touchByHash(keyHash: string): Promise<{ creatorId: string; keyId: string } | null>;
  /** Whether the creator still has the key. */
  has(creatorId: string, keyId: string): Promise<boolean>;
}

export type AccountTokenPurpose = 'verify-email' | 'password-reset';

/** A single-use link token as issued: the raw token goes into an email, only its hash is stored. */
export interface AccountLink {
  tokenId: string;
  token: string;
  expiresAt: Date;
}

/** Persistence port for email verification and password-reset tokens (src/db/account-token.repository.ts). */
export interface AccountTokenStore {
  issue(input: { creatorId: string; purpose: AccountTokenPurpose; tokenHash: string; email: string; expiresAt: Date }): Promise<{ id: string }>;
  /** Tokens of this purpose issued to the creator since `since` (used or not). */
  countSince(creatorId: string, purpose: AccountTokenPurpose, since: Date): Promise<number>;
  /** Whether the token is unused and unexpired, without using it. */
  isLive(purpose: AccountTokenPurpose, tokenHash: string): Promise<boolean>;
  /**
   * Uses a live verification token and marks the address verified, in one statement; null when the
   * token is unknown, used or expired (or the creator's address changed since it was issued).
   */
  confirmEmail(tokenHash: string): Promise<{ creatorId: string; email: string } | null>;
  /**
   * Uses a live reset token: sets the password, revokes every refresh token and every other unused
   * reset token of the creator and raises its token version, in one statement; null when the token is unknown, used or expired.
   */
  resetPassword(tokenHash: string, passwordHash: string): Promise<{ creatorId: string } | null>;
  isEmailVerified(creatorId: string): Promise<boolean>;
}

/** Sends the emails that carry account links (implemented by src/email/email-notifications.ts). */
export interface AccountMailer {
  verifyEmail(creator: Creator, link: AccountLink): Promise<void>;
  passwordReset(creator: Creator, link: AccountLink): Promise<void>;
}
