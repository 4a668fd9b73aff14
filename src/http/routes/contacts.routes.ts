import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ContactTagService } from '../../coaching/contact-tag.service.js';
import { botParams } from '../schemas/bots.js';
import { contactListQuery, contactListResponse, contactParams, contactTagParams, tagsBody, tagsResponse } from '../schemas/contacts.js';

/** The bot's contacts and their tags (what broadcasts can be aimed at). */
export const contactRoutes: FastifyPluginAsyncZod<{ tags: ContactTagService }> = async (app, { tags }) => {
  app.addHook('onRequest', app.authenticate);
  const common = { tags: ['contacts'], security: [{ bearer: [] }] };

  app.get(
    '/bots/:botId/contacts',
    {
      schema: {
        ...common,
        summary: "The bot's contacts, newest first, with their tags and whether they opted out or blocked the bot",
        params: botParams,
        querystring: contactListQuery,
        response: { 200: contactListResponse },
      },
    },
    async (request) => {
      const { tag, before, limit } = request.query;
      const contacts = await tags.list(request.creatorId, request.params.botId, { tag, before, limit });
      return {
        contacts: contacts.map((c) => ({ ...c, createdAt: c.createdAt.toISOString() })),
        nextCursor: contacts.length === limit ? contacts.at(-1)!.id : null,
      };
    },
  );

  app.get(
    '/bots/:botId/contacts/:contactId/tags',
    { schema: { ...common, summary: "The contact's tags", params: contactParams, response: { 200: tagsResponse } } },
    async (request) => ({ contactId: request.params.contactId, tags: await tags.tags(request.creatorId, request.params.botId, request.params.contactId) }),
  );

  app.put(
    '/bots/:botId/contacts/:contactId/tags',
    { schema: { ...common, summary: "Replace the contact's tags", params: contactParams, body: tagsBody, response: { 200: tagsResponse } } },
    async (request) => {
      const { botId, contactId } = request.params;
      return { contactId, tags: await tags.replace(request.creatorId, botId, contactId, request.body.tags) };
    },
  );

  app.post(
    '/bots/:botId/contacts/:contactId/tags',
    { schema: { ...common, summary: "Add tags to the contact's (those it has already are kept once)", params: contactParams, body: tagsBody, response: { 200: tagsResponse } } },
    async (request) => {
      const { botId, contactId } = request.params;
      return { contactId, tags: await tags.add(request.creatorId, botId, contactId, request.body.tags) };
    },
  );

  app.delete(
    '/bots/:botId/contacts/:contactId/tags/:tag',
    { schema: { ...common, summary: 'Remove one tag from the contact (case-insensitive; removing an absent tag is fine)', params: contactTagParams, response: { 200: tagsResponse } } },
    async (request) => {
      const { botId, contactId, tag } = request.params;
      return { contactId, tags: await tags.remove(request.creatorId, botId, contactId, tag) };
    },
  );
};
