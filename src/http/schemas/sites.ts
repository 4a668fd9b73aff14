import { z } from 'zod';

export const siteParams = z.object({ botId: z.string(), siteId: z.string() });

export const siteResponse = z.object({
  id: z.uuid(),
  kind: z.literal('site'),
  rootUrl: z.string(),
  status: z.enum(['queued', 'crawling', 'ready', 'failed']),
  error: z.string().optional().describe('Why the site could not be read, in words for the creator'),
  useSitemap: z.boolean(),
  maxPages: z.number().int(),
  sameOrigin: z.boolean(),
  syncIntervalHours: z.number().int().describe('0: synced on demand only'),
  pagesFound: z.number().int(),
  lastSyncedAt: z.iso.datetime().optional(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export const siteListResponse = z.object({ sites: z.array(siteResponse) });

export const sitePagesResponse = z.object({
  pages: z.array(
    z.object({
      documentId: z.uuid(),
      url: z.string(),
      title: z.string(),
      status: z.enum(['queued', 'processing', 'ready', 'failed']),
      error: z.string().optional(),
      chunks: z.number().int(),
      fetchedAt: z.iso.datetime().optional(),
      ingestedAt: z.iso.datetime().optional(),
    }),
  ),
});
