import { z } from 'zod';

export const documentParams = z.object({ botId: z.string(), documentId: z.string() });
export const botDocumentsParams = z.object({ botId: z.string() });

/** The JSON alternative to a multipart upload: a web page or file to fetch. */
export const addUrlBody = z.object({
  url: z.string().trim().min(1).max(2048).describe('http(s) address of a web page, PDF, Word, text or subtitle (SRT, WebVTT) file'),
  title: z.string().trim().min(1).max(500).optional(),
  crawl: z
    .object({
      sitemap: z.boolean().optional().describe('Find pages in sitemap.xml (default); links on the site are followed when it has none or this is false'),
      maxPages: z.number().int().min(1).optional().describe('Pages to read at most (default 100; the server caps it)'),
      sameOrigin: z.literal(true).optional().describe('Pages on the start address’s own scheme, host and port only'),
      syncIntervalHours: z.number().int().min(0).max(8760).optional().describe('How often the site is read again (0: only on demand); the server’s default otherwise'),
    })
    .strict()
    .optional()
    .describe('Read the whole website from this address, one document per page, kept in sync'),
});

const status = z.enum(['queued', 'processing', 'ready', 'failed']);

export const acceptedDocumentResponse = z.object({
  id: z.uuid(),
  status,
  title: z.string(),
});

export const documentResponse = z.object({
  id: z.uuid(),
  title: z.string(),
  status,
  error: z.string().optional().describe('Why ingestion failed, in words for the creator'),
  chunks: z.number().int(),
  pages: z.number().int().optional().describe('Pages read, for paged formats such as PDF'),
  progress: z.number().min(0).max(1),
  retrievalMode: z
    .enum(['hybrid', 'lexical'])
    .nullable()
    .describe('hybrid: vectors and full text; lexical: full text only (no embedding model was available); null until ingested'),
  embeddingModel: z.string().optional().describe('The embedding model the document is searched by'),
  reembedding: z
    .object({
      model: z.string(),
      chunksDone: z.number().int(),
      progress: z.number().min(0).max(1),
    })
    .optional()
    .describe('While the document is re-embedded by a new model: searched by its old vectors until the new ones are complete'),
  sourceUrl: z.string().optional(),
  filename: z.string().optional(),
  mediaType: z.string().nullable(),
  sizeBytes: z.number().int().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  ingestedAt: z.iso.datetime().optional(),
});

export const documentListResponse = z.object({ documents: z.array(documentResponse) });
