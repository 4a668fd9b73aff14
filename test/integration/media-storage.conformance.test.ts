import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDiskStorage } from '../../src/media/adapters/local-disk.storage.js';
import { S3Storage } from '../../src/media/adapters/s3.storage.js';
import type { MediaStorage } from '../../src/media/media.ports.js';
import { startFakeS3, type FakeS3 } from '../support/fake-s3.js';

let s3: FakeS3;
let root: string;

beforeAll(async () => {
  s3 = await startFakeS3({ pageSize: 2 });
  root = mkdtempSync(path.join(tmpdir(), 'coach-media-'));
});

afterAll(async () => {
  await s3?.close();
  rmSync(root, { recursive: true, force: true });
});

const stores: Array<[string, () => MediaStorage]> = [
  ['local disk', () => new LocalDiskStorage(root)],
  [
    'S3-compatible',
    () => new S3Storage({ bucket: s3.bucket, endpoint: s3.url, region: 'us-east-1', accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true, prefix: 'media' }),
  ],
];

describe.each(stores)('%s media storage', (_name, make) => {
  it('gives back exactly what was put, and null for a key never written', async () => {
    const storage = make();
    const bytes = Buffer.from([0, 1, 2, 250, 255, ...Buffer.from('%PDF-1.7 diary')]);
    await storage.put('bot-a/conv-1/file.pdf', bytes);
    expect(await storage.get('bot-a/conv-1/file.pdf')).toEqual(bytes);
    expect(await storage.get('bot-a/conv-1/missing.pdf')).toBeNull();
  });

  it("deletes one conversation's files, across pages, and nobody else's", async () => {
    const storage = make();
    for (const name of ['a', 'b', 'c', 'd', 'e']) await storage.put(`bot-b/conv-1/${name}.txt`, Buffer.from(name));
    await storage.put('bot-b/conv-10/keep.txt', Buffer.from('other conversation'));
    await storage.put('bot-c/conv-1/keep.txt', Buffer.from('other bot'));
    await storage.deletePrefix('bot-b/conv-1/');
    for (const name of ['a', 'b', 'c', 'd', 'e']) expect(await storage.get(`bot-b/conv-1/${name}.txt`)).toBeNull();
    expect((await storage.get('bot-b/conv-10/keep.txt'))?.toString()).toBe('other conversation');
    expect((await storage.get('bot-c/conv-1/keep.txt'))?.toString()).toBe('other bot');
  });

  it("deletes a whole bot's files", async () => {
    const storage = make();
    await storage.put('bot-d/conv-1/x.txt', Buffer.from('x'));
    await storage.put('bot-d/conv-2/y.txt', Buffer.from('y'));
    await storage.deletePrefix('bot-d/');
    expect(await storage.get('bot-d/conv-1/x.txt')).toBeNull();
    expect(await storage.get('bot-d/conv-2/y.txt')).toBeNull();
  });
});

describe('S3 media storage', () => {
  it('keeps objects under the configured prefix of the bucket', async () => {
    const storage = new S3Storage({ bucket: s3.bucket, endpoint: s3.url, region: 'us-east-1', accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true, prefix: 'tenant-media/' });
    await storage.put('bot-e/conv-1/f.txt', Buffer.from('f'));
    expect(s3.objects.get('tenant-media/bot-e/conv-1/f.txt')?.toString()).toBe('f');
  });

  it('refuses to start with MEDIA_STORAGE=s3 and no bucket, naming the variable', async () => {
    const { parseConfig } = await import('../../src/config.js');
    expect(() => parseConfig({ MEDIA_STORAGE: 's3' })).toThrow(/S3_BUCKET/);
  });
});
