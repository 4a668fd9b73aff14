/**
 * A fake S3-compatible object store on 127.0.0.1 speaking the REST protocol the AWS SDK uses with
 * path-style addressing: PutObject, GetObject, ListObjectsV2 (paged) and DeleteObjects. Requests
 * must carry a SigV4 Authorization header for the configured access key; errors use S3's XML.
 */
import { buffer } from 'node:stream/consumers';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeS3 {
  url: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Objects by key, as stored. */
  objects: Map<string, Buffer>;
  close(): Promise<void>;
}


const escapeXml = (value: string) => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function xml(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'application/xml' });
  response.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

function error(response: ServerResponse, status: number, code: string, message: string): void {
  xml(response, status, `<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`);
}

/** Starts the fake; `pageSize` keeps listings short so paging is exercised. */
export async function startFakeS3(options: { bucket?: string; pageSize?: number } = {}): Promise<FakeS3> {
  const bucket = options.bucket ?? 'coach-media';
  const pageSize = options.pageSize ?? 1000;
  const accessKeyId = 'AKIAFAKEFAKEFAKE0001';
  const objects = new Map<string, Buffer>();

  const server: Server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const auth = request.headers.authorization ?? '';
      if (!auth.startsWith(`AWS4-HMAC-SHA256 Credential=${accessKeyId}/`)) return error(response, 403, 'InvalidAccessKeyId', 'Unknown or missing access key');
      const [, name, ...rest] = url.pathname.split('/');
      if (name !== bucket) return error(response, 404, 'NoSuchBucket', `No bucket ${name}`);
      const key = decodeURIComponent(rest.join('/'));
      const body = await buffer(request);

      if (request.method === 'PUT' && key) {
        objects.set(key, body);
        response.writeHead(200, { etag: '"fake"' }).end();
        return;
      }
      if (request.method === 'GET' && key) {
        const object = objects.get(key);
        if (!object) return error(response, 404, 'NoSuchKey', 'The specified key does not exist.');
        response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(object.length) }).end(object);
        return;
      }
      if (request.method === 'GET' && url.searchParams.get('list-type') === '2') {
        const prefix = url.searchParams.get('prefix') ?? '';
        const after = url.searchParams.get('continuation-token') ?? '';
        const keys = [...objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
        const page = keys.slice(0, pageSize);
        const truncated = keys.length > page.length;
        const contents = page.map((k) => `<Contents><Key>${escapeXml(k)}</Key><Size>${objects.get(k)!.length}</Size></Contents>`).join('');
        return xml(
          response,
          200,
          `<ListBucketResult><Name>${bucket}</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${pageSize}</MaxKeys>` +
            `<IsTruncated>${truncated}</IsTruncated>${truncated ? `<NextContinuationToken>${escapeXml(page.at(-1)!)}</NextContinuationToken>` : ''}${contents}</ListBucketResult>`,
        );
      }
      if (request.method === 'POST' && url.searchParams.has('delete')) {
        const deleted = [...body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
        for (const k of deleted) objects.delete(k);
        return xml(response, 200, `<DeleteResult>${deleted.map((k) => `<Deleted><Key>${escapeXml(k)}</Key></Deleted>`).join('')}</DeleteResult>`);
      }
      return error(response, 400, 'NotImplemented', `${request.method} ${url.pathname}${url.search}`);
    })().catch((err: unknown) => error(response, 500, 'InternalError', (err as Error).message));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bucket,
    accessKeyId,
    secretAccessKey: 'fake-secret-key-for-tests',
    objects,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
