import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { SiteService, SiteSummary } from '../../knowledge/site.service.js';
import { botDocumentsParams } from '../schemas/documents.js';
import { siteListResponse, sitePagesResponse, siteParams, siteResponse } from '../schemas/sites.js';

/** The public shape of a site. */
export function toSiteResponse(s: SiteSummary) {
  return {
    id: s.id,
    kind: 'site' as const,
    rootUrl: s.rootUrl,
    status: s.status,
    ...(s.error ? { error: s.error } : {}),
    useSitemap: s.useSitemap,
    maxPages: s.maxPages,
    sameOrigin: s.sameOrigin,
    syncIntervalHours: s.syncIntervalHours,
    pagesFound: s.pagesFound,
    ...(s.lastSyncedAt ? { lastSyncedAt: s.lastSyncedAt.toISOString() } : {}),
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}

/** Websites in a bot's knowledge base (added through `POST …/documents {url, crawl}`): their pages, syncs, removal. */
export const siteRoutes: FastifyPluginAsyncZod<{ sites: SiteService }> = async (app, { sites }) => {
  app.addHook('onRequest', app.authenticate);
  const common = { tags: ['documents'], security: [{ bearer: [] }] };

  app.get(
    '/bots/:botId/sites',
    { schema: { ...common, summary: 'List the bot’s websites', params: botDocumentsParams, response: { 200: siteListResponse } } },
    async (request) => ({ sites: (await sites.list(request.creatorId, request.params.botId)).map(toSiteResponse) }),
  );

  app.get(
    '/bots/:botId/sites/:siteId',
    { schema: { ...common, summary: 'A website and the state of its last sync', params: siteParams, response: { 200: siteResponse } } },
    async (request) => toSiteResponse(await sites.get(request.creatorId, request.params.botId, request.params.siteId)),
  );

  app.get(
    '/bots/:botId/sites/:siteId/pages',
    { schema: { ...common, summary: 'The website’s pages, each a document, and their state', params: siteParams, response: { 200: sitePagesResponse } } },
    async (request) => ({
      pages: (await sites.pages(request.creatorId, request.params.botId, request.params.siteId)).map((p) => ({
        documentId: p.id,
        url: p.url,
        title: p.title,
        status: p.status,
        ...(p.error ? { error: p.error } : {}),
        chunks: p.chunkCount,
        ...(p.fetchedAt ? { fetchedAt: p.fetchedAt.toISOString() } : {}),
        ...(p.ingestedAt ? { ingestedAt: p.ingestedAt.toISOString() } : {}),
      })),
    }),
  );

  app.post(
    '/bots/:botId/sites/:siteId/sync',
    {
      schema: {
        ...common,
        summary: 'Read the website again now: unchanged pages cost one conditional request, changed ones are re-ingested, removed ones leave the index',
        params: siteParams,
        response: { 202: siteResponse },
      },
    },
    async (request, reply) => reply.status(202).send(toSiteResponse(await sites.sync(request.creatorId, request.params.botId, request.params.siteId))),
  );

  app.delete(
    '/bots/:botId/sites/:siteId',
    { schema: { ...common, summary: 'Delete a website with all its pages', params: siteParams, response: { 204: z.null().describe('Deleted') } } },
    async (request, reply) => {
      await sites.delete(request.creatorId, request.params.botId, request.params.siteId);
      return reply.status(204).send(null);
    },
  );
};
