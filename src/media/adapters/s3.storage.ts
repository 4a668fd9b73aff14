import type * as S3Sdk from '@aws-sdk/client-s3';
import type { MediaStorage } from '../media.ports.js';

/** The AWS SDK and a client of it. */
interface S3Connection {
  sdk: typeof S3Sdk;
  client: S3Sdk.S3Client;
}

export interface S3StorageOptions {
  bucket: string;
  /** Any S3-compatible endpoint (MinIO, R2, Wasabi…); AWS itself when unset. */
  endpoint?: string | undefined;
  region: string;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  /** Bucket in the path rather than the host name, as most self-hosted servers need. */
  forcePathStyle: boolean;
  /** Prepended to every key, to share a bucket. */
  prefix?: string | undefined;
}

/** Media files in an S3-compatible bucket. */
export class S3Storage implements MediaStorage {
  private connection: Promise<S3Connection> | undefined;
  private readonly prefix: string;

  constructor(private readonly options: S3StorageOptions) {
    this.prefix = options.prefix ? `${options.prefix.replace(/\/+$/, '')}/` : '';
  }

  // The SDK takes most of a second and tens of MB to load: it is loaded with the first file stored or
  // read, not at start-up.
  private connect(): Promise<S3Connection> {
    const { options } = this;
    this.connection ??= import('@aws-sdk/client-s3').then((sdk) => ({
      sdk,
      client: new sdk.S3Client({
        region: options.region,
        forcePathStyle: options.forcePathStyle,
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.accessKeyId && options.secretAccessKey
          ? { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } }
          : {}),
      }),
    }));
    return this.connection;
  }

  async put(key: string, bytes: Buffer): Promise<void> {
    const { sdk, client } = await this.connect();
    await client.send(new sdk.PutObjectCommand({ Bucket: this.options.bucket, Key: this.prefix + key, Body: bytes }));
  }

  async get(key: string): Promise<Buffer | null> {
    const { sdk, client } = await this.connect();
    try {
      const object = await client.send(new sdk.GetObjectCommand({ Bucket: this.options.bucket, Key: this.prefix + key }));
      return object.Body ? Buffer.from(await object.Body.transformToByteArray()) : Buffer.alloc(0);
    } catch (err) {
      if (err instanceof sdk.NoSuchKey) return null;
      throw err;
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    const { sdk, client } = await this.connect();
    let token: string | undefined;
    do {
      const page = await client.send(
        new sdk.ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: this.prefix + prefix, ...(token ? { ContinuationToken: token } : {}) }),
      );
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length) await client.send(new sdk.DeleteObjectsCommand({ Bucket: this.options.bucket, Delete: { Objects: keys, Quiet: true } }));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  close(): void {
    void this.connection?.then(({ client }) => client.destroy());
  }
}
