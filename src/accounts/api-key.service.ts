import { NotFoundError } from '../errors/app.errors.js';
import { hashToken, randomToken } from '../security/tokens.js';
import type { ApiKey, ApiKeyStore } from './account.types.js';

/** Every API key starts with this, so a bearer token can be told apart from a JWT at a glance. */
export const API_KEY_PREFIX = 'ck_';
// Enough of the key to recognise it in a list, far too little to guess the rest (32 random bytes).
const VISIBLE_CHARS = API_KEY_PREFIX.length + 8;

/** A freshly created key: the only moment its secret is available. */
export interface CreatedApiKey extends ApiKey {
  key: string;
}

/** Long-lived creator credentials for scripts, stored only as SHA-256 hashes. */
export class ApiKeyService {
  constructor(private readonly store: ApiKeyStore) {}

  /** Creates a key and returns its secret once. */
  async create(creatorId: string, name: string): Promise<CreatedApiKey> {
    const key = `${API_KEY_PREFIX}${randomToken()}`;
    const created = await this.store.insert({ creatorId, name: name.trim(), prefix: key.slice(0, VISIBLE_CHARS), keyHash: hashToken(key) });
    return { ...created, key };
  }

  /** The creator's keys, newest first, without secrets. */
  list(creatorId: string): Promise<ApiKey[]> {
    return this.store.listByCreator(creatorId);
  }

  /** Deletes one of the creator's keys; NOT_FOUND for unknown ids and other creators' keys. */
  async delete(creatorId: string, id: string): Promise<void> {
    if (!(await this.store.delete(creatorId, id))) throw new NotFoundError('API key');
  }

  /** The creator a key belongs to and the key's id (recording its use), or null when it is not a live key. */
  async authenticate(key: string): Promise<{ creatorId: string; keyId: string } | null> {
    if (!key.startsWith(API_KEY_PREFIX)) return null;
    return this.store.touchByHash(hashToken(key));
  }
}
