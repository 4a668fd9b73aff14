import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../src/config.js';

const dataDirs: string[] = [];

/** A data directory of the test's own, removed afterwards. */
function temporaryDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'coach-config-'));
  dataDirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('configuration', () => {
  it('starts with defaults on a bare machine', () => {
    const config = parseConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.VECTOR_STORE).toBe('pgvector');
    expect(config.LLM_PROVIDER).toBe('auto');
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('seeds the demo by default except in production, where it must be asked for', () => {
    expect(parseConfig({}).SEED_DEMO).toBe(true);
    expect(parseConfig({ NODE_ENV: 'test' }).SEED_DEMO).toBe(true);
    expect(parseConfig({ NODE_ENV: 'production' }).SEED_DEMO).toBe(false);
    expect(parseConfig({ NODE_ENV: 'production', SEED_DEMO: 'true' }).SEED_DEMO).toBe(true);
    expect(parseConfig({ NODE_ENV: 'development', SEED_DEMO: 'false' }).SEED_DEMO).toBe(false);
  });

  it('tells whether a model server was set up (OLLAMA_HOST given) or only defaulted', () => {
    expect(parseConfig({}).OLLAMA_HOST_SET).toBe(false);
    expect(parseConfig({ OLLAMA_HOST: '' }).OLLAMA_HOST_SET).toBe(false);
    expect(parseConfig({ OLLAMA_HOST: 'http://gpu-box:11434' }).OLLAMA_HOST_SET).toBe(true);
  });

  it('names every invalid variable in one message', () => {
    let error: unknown;
    try {
      parseConfig({ PORT: 'eighty', VECTOR_STORE: 'faiss', DATABASE_URL: 'not a url' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('PORT');
    expect(message).toContain('VECTOR_STORE');
    expect(message).toContain('DATABASE_URL');
  });

  it('sends outgoing SDK calls through the lean HTTP client unless HTTP_CLIENT=fetch', () => {
    expect(parseConfig({}).HTTP_CLIENT).toBe('lean');
    expect(parseConfig({ HTTP_CLIENT: 'fetch' }).HTTP_CLIENT).toBe('fetch');
    expect(() => parseConfig({ HTTP_CLIENT: 'axios' })).toThrow(/HTTP_CLIENT/);
  });

  it('treats empty values as unset', () => {
    expect(parseConfig({ REDIS_URL: '', PORT: '' }).REDIS_URL).toBeUndefined();
  });

  it('rejects an encryption key that is not 32 bytes of hex', () => {
    expect(() => parseConfig({ ENCRYPTION_KEY: 'short' })).toThrow(/ENCRYPTION_KEY/);
  });

  it('generates local secrets once and keeps them across restarts', () => {
    const dataDir = temporaryDataDir();
    const first = loadConfig({ DATA_DIR: dataDir });
    const second = loadConfig({ DATA_DIR: dataDir });
    expect(first.JWT_SECRET.length).toBeGreaterThanOrEqual(32);
    expect(first.ENCRYPTION_KEY).toMatch(/^[0-9a-f]{64}$/);
    expect(second.JWT_SECRET).toBe(first.JWT_SECRET);
    expect(second.ENCRYPTION_KEY).toBe(first.ENCRYPTION_KEY);
    const file = path.join(dataDir, 'secrets', 'encryption-key');
    expect(readFileSync(file, 'utf8').trim()).toBe(first.ENCRYPTION_KEY);
    expect(statSync(file).mode & 0o077).toBe(0);
  });

  it('prefers secrets given in the environment', () => {
    const dataDir = temporaryDataDir();
    const key = 'ab'.repeat(32);
    expect(loadConfig({ DATA_DIR: dataDir, ENCRYPTION_KEY: key }).ENCRYPTION_KEY).toBe(key);
  });

  it('trusts no proxy unless TRUST_PROXY says which, in the forms Fastify takes', () => {
    expect(parseConfig({}).TRUST_PROXY).toBe(false);
    expect(parseConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(parseConfig({ TRUST_PROXY: '1' }).TRUST_PROXY).toBe(1);
    expect(parseConfig({ TRUST_PROXY: '10.244.0.0/16, 127.0.0.1,loopback' }).TRUST_PROXY).toEqual(['10.244.0.0/16', '127.0.0.1', 'loopback']);
    expect(() => parseConfig({ TRUST_PROXY: 'yes please' })).toThrow(/TRUST_PROXY/);
    expect(() => parseConfig({ TRUST_PROXY: '10.0.0.0/33' })).toThrow(/TRUST_PROXY/);
  });
});
