import type { FastifyInstance } from 'fastify';
import { multipart } from './multipart.js';
import { waitFor } from './wait-for.js';

/** The document as `GET /v1/bots/:botId/documents/:id` shows it. */
export interface DocumentView {
  id: string;
  status: 'queued' | 'processing' | 'ready' | 'failed';
  error?: string;
  chunks: number;
  retrievalMode?: string;
  [key: string]: unknown;
}

/**
 * Uploads one file through the API (asserting 202) and waits until the worker has ingested it;
 * a failed ingestion throws with its reason.
 */
export async function uploadAndIngest(
  app: FastifyInstance,
  auth: { authorization: string },
  botId: string,
  file: { name: string; type: string; bytes: Buffer },
  options: { fields?: Record<string, string>; timeoutMs?: number } = {},
): Promise<DocumentView> {
  const body = multipart(file, options.fields);
  const upload = await app.inject({ method: 'POST', url: `/v1/bots/${botId}/documents`, headers: { ...auth, ...body.headers }, payload: body.payload });
  if (upload.statusCode !== 202) throw new Error(`upload answered ${upload.statusCode}: ${upload.body}`);
  const id = (upload.json() as { id: string }).id;
  return waitFor(
    async () => {
      const doc = (await app.inject({ url: `/v1/bots/${botId}/documents/${id}`, headers: auth })).json() as DocumentView;
      if (doc.status === 'failed') throw new Error(`ingestion failed: ${doc.error}`);
      return doc.status === 'ready' ? doc : undefined;
    },
    { timeoutMs: options.timeoutMs ?? 60_000, what: `${file.name} to be ingested` },
  );
}
