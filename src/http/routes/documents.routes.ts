import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import multipart from '@fastify/multipart';
import { z } from 'zod';
import { hasUnstorableText } from '../../text/storable-text.js';
import { AppError, ValidationError } from '../../errors/app.errors.js';
import type { DocumentService, DocumentSummary } from '../../knowledge/document.service.js';
import type { SiteService } from '../../knowledge/site.service.js';
import { siteResponse } from '../schemas/sites.js';
import { toSiteResponse } from './sites.routes.js';
import { acceptedDocumentResponse, addUrlBody, botDocumentsParams, documentListResponse, documentParams, documentResponse } from '../schemas/documents.js';

export interface DocumentRoutesOptions {
  documents: DocumentService;
  uploadMaxBytes: number;
  /** Websites (`{url, crawl}`); without it a crawl is refused. */
  sites?: SiteService | undefined;
}

// Multipart boundaries and part headers around the file; generous for a single part.
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

function size(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Number((bytes / (1024 * 1024)).toFixed(1))} MB`;
  return `${Number((bytes / 1024).toFixed(1))} KB`;
}

function payloadTooLarge(maxBytes: number) {
  return new AppError('PAYLOAD_TOO_LARGE', 413, `The file is larger than the upload limit of ${size(maxBytes)}`, { maxBytes });
}

/**
 * Why reading a multipart body failed, as the client's mistake: the parser's own errors (no
 * boundary, truncated body, malformed part headers) are plain errors that would otherwise be a 500.
 */
function unreadableUpload(err: unknown, uploadMaxBytes: number): unknown {
  const code = (err as { code?: string }).code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') return payloadTooLarge(uploadMaxBytes);
  const status = (err as { statusCode?: number }).statusCode;
  if (err instanceof AppError || (code?.startsWith('FST_') && status !== undefined && status < 500)) return err;
  return new AppError('INVALID_MULTIPART', 400, `The multipart body could not be read: ${(err as Error).message}`);
}

function storableField(value: string, field: string): string {
  if (hasUnstorableText(value)) throw new ValidationError(`${field}: contains a character that cannot be stored (NUL or an unpaired surrogate)`);
  return value;
}

/** The public shape of a document. */
export function toDocumentResponse(d: DocumentSummary) {
  return {
    id: d.id,
    title: d.title,
    status: d.status,
    ...(d.error ? { error: d.error } : {}),
    chunks: d.chunkCount,
    ...(d.pageCount !== null ? { pages: d.pageCount } : {}),
    progress: d.progress,
    retrievalMode: d.retrievalMode,
    ...(d.embeddingModel ? { embeddingModel: d.embeddingModel } : {}),
    ...(d.reembedModel
      ? { reembedding: { model: d.reembedModel, chunksDone: d.reembedDone, progress: d.chunkCount ? Math.min(1, d.reembedDone / d.chunkCount) : 0 } }
      : {}),
    ...(d.sourceUrl ? { sourceUrl: d.sourceUrl } : {}),
    ...(d.filename ? { filename: d.filename } : {}),
    mediaType: d.mediaType,
    sizeBytes: d.sizeBytes,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    ...(d.ingestedAt ? { ingestedAt: d.ingestedAt.toISOString() } : {}),
  };
}

/** A bot's knowledge base: upload files or add web addresses, follow their ingestion, delete them. */
export const documentRoutes: FastifyPluginAsyncZod<DocumentRoutesOptions> = async (app, { documents, uploadMaxBytes, sites }) => {
  // Streams the file part; a part over the limit fails with FST_REQ_FILE_TOO_LARGE (413) as soon as it is exceeded.
  await app.register(multipart, { limits: { fileSize: uploadMaxBytes, files: 1, fields: 10, fieldSize: 4096, parts: 12 } });
  app.addHook('onRequest', app.authenticate);
  const common = { tags: ['documents'], security: [{ bearer: [] }] };

  // Refuses a body that announces itself as too large before a byte of it is read.
  const rejectOversizedUpload = async (request: FastifyRequest) => {
    const length = Number(request.headers['content-length']);
    const multipartBody = /^multipart\//i.test(request.headers['content-type'] ?? '');
    if (multipartBody && Number.isFinite(length) && length > uploadMaxBytes + MULTIPART_OVERHEAD_BYTES) {
      throw payloadTooLarge(uploadMaxBytes);
    }
  };

  app.post(
    '/bots/:botId/documents',
    {
      onRequest: rejectOversizedUpload,
      // Read by the handler itself (a multipart upload or JSON), so documented here for "Try it out".
      config: {
        documentedBody: {
          'multipart/form-data': {
            schema: {
              type: 'object',
              required: ['file'],
              properties: {
                file: { type: 'string', format: 'binary', description: `The document: PDF, DOCX, PPTX, EPUB, HTML, text, Markdown, subtitles (.srt, .vtt) or a ZIP export of Markdown/HTML files, at most ${size(uploadMaxBytes)}` },
                title: { type: 'string', maxLength: 500, description: 'Shown in answers and citations; the file name or the document’s own title otherwise' },
              },
            },
          },
          'application/json': { schema: z.toJSONSchema(addUrlBody) as Record<string, unknown> },
        },
      },
      schema: {
        ...common,
        summary:
          'Add a document: multipart field `file` (PDF, DOCX, HTML, text, Markdown, SRT or WebVTT subtitles), JSON {url, title?}, or a whole website with JSON {url, crawl: {sitemap?, maxPages?}} (answers with the site)',
        consumes: ['multipart/form-data', 'application/json'],
        params: botDocumentsParams,
        response: { 202: z.union([acceptedDocumentResponse, siteResponse]) },
      },
    },
    async (request, reply) => {
      const { botId } = request.params;
      let created: DocumentSummary;
      if (request.isMultipart()) {
        const file = await request.file().catch((err: unknown) => {
          throw unreadableUpload(err, uploadMaxBytes);
        });
        if (!file) throw new ValidationError('Send the document in the multipart field "file"');
        if (file.fieldname !== 'file') throw new ValidationError(`Unexpected field "${file.fieldname}"; send the document in the field "file"`);
        let bytes: Buffer;
        try {
          bytes = await file.toBuffer();
        } catch (err) {
          throw unreadableUpload(err, uploadMaxBytes);
        }
        const titleField = file.fields.title;
        const title = titleField && !Array.isArray(titleField) && titleField.type === 'field' ? storableField(String(titleField.value), 'title') : undefined;
        const filename = storableField(file.filename, 'filename');
        created = await documents.upload(request.creatorId, botId, { bytes, filename, mediaType: storableField(file.mimetype, 'Content-Type'), title });
      } else {
        const parsed = addUrlBody.safeParse(request.body ?? {});
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new ValidationError(`${['body', ...(issue?.path ?? []).map(String)].join('.')}: ${issue?.message ?? 'invalid'}`);
        }
        const { crawl, ...page } = parsed.data;
        if (crawl) {
          if (!sites) throw new ValidationError('body.crawl: reading whole websites is not available on this server');
          return reply.status(202).send(toSiteResponse(await sites.create(request.creatorId, botId, { url: page.url, ...crawl })));
        }
        created = await documents.addUrl(request.creatorId, botId, page);
      }
      return reply.status(202).send({ id: created.id, status: created.status, title: created.title });
    },
  );

  app.get(
    '/bots/:botId/documents',
    { schema: { ...common, summary: 'List the bot’s documents', params: botDocumentsParams, response: { 200: documentListResponse } } },
    async (request) => ({ documents: (await documents.list(request.creatorId, request.params.botId)).map(toDocumentResponse) }),
  );

  app.get(
    '/bots/:botId/documents/:documentId',
    { schema: { ...common, summary: 'A document and its ingestion status', params: documentParams, response: { 200: documentResponse } } },
    async (request) => toDocumentResponse(await documents.get(request.creatorId, request.params.botId, request.params.documentId)),
  );

  app.delete(
    '/bots/:botId/documents/:documentId',
    { schema: { ...common, summary: 'Delete a document with its chunks', params: documentParams, response: { 204: z.null().describe('Deleted') } } },
    async (request, reply) => {
      await documents.delete(request.creatorId, request.params.botId, request.params.documentId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/bots/:botId/documents/:documentId/reingest',
    {
      schema: {
        ...common,
        summary: 'Ingest again: web addresses are fetched anew; unchanged content is left as it is',
        params: documentParams,
        response: { 202: documentResponse },
      },
    },
    async (request, reply) =>
      reply.status(202).send(toDocumentResponse(await documents.reingest(request.creatorId, request.params.botId, request.params.documentId))),
  );
};
