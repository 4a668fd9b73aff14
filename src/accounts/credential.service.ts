import type { ApiKeyStore, CreatorStore, RefreshTokenStore } from './account.types.js';

/** What a request authenticated with: a session's access token (its login, when the token names it), or an API key. */
export type Credential = { kind: 'session'; sessionId: string | null; tokenVersion: number } | { kind: 'api_key'; keyId: string };

/** A credential as one opaque string (carried in stream tickets and kept with open streams). */
export function credentialKey(credential: Credential): string {
  return credential.kind === 'api_key' ? `key:${credential.keyId}` : `session:${credential.sessionId ?? '-'}:${credential.tokenVersion}`;
}

function parseCredentialKey(key: string): Credential | null {
  const apiKey = /^key:(.+)$/.exec(key);
  if (apiKey) return { kind: 'api_key', keyId: apiKey[1]! };
  const session = /^session:([^:]+):(\d+)$/.exec(key);
  if (!session) return null;
  return { kind: 'session', sessionId: session[1] === '-' ? null : session[1]!, tokenVersion: Number(session[2]) };
}

/**
 * Whether a credential a creator once presented still stands: the API key exists, or the session's
 * login is not signed out and no logout from everywhere or password reset happened since. What was
 * opened with a credential (an event stream, a ticket) lives only as long as it does.
 */
export class CredentialService {
  constructor(
    private readonly deps: {
      creators: Pick<CreatorStore, 'tokenVersion'>;
      refreshTokens: Pick<RefreshTokenStore, 'familyLive'>;
      apiKeys: Pick<ApiKeyStore, 'has'>;
    },
  ) {}

  /** False for a credential that was revoked, and for one that is not the creator's or not understood. */
  async isLive(creatorId: string, key: string): Promise<boolean> {
    const credential = parseCredentialKey(key);
    if (!credential) return false;
    if (credential.kind === 'api_key') return this.deps.apiKeys.has(creatorId, credential.keyId);
    // Read fresh: a logout from everywhere in another process must count at once.
    if ((await this.deps.creators.tokenVersion(creatorId)) !== credential.tokenVersion) return false;
    return credential.sessionId === null || this.deps.refreshTokens.familyLive(creatorId, credential.sessionId);
  }
}
