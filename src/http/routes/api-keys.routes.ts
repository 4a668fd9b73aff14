import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiKey } from '../../accounts/account.types.js';
import type { ApiKeyService } from '../../accounts/api-key.service.js';
import { apiKeyListResponse, apiKeyParams, createApiKeyBody, createdApiKeyResponse } from '../schemas/api-keys.js';

function toResponse(key: ApiKey) {
  return { id: key.id, name: key.name, prefix: key.prefix, createdAt: key.createdAt.toISOString(), lastUsedAt: key.lastUsedAt?.toISOString() ?? null };
}

/** Creating, listing and deleting the creator's API keys. */
export const apiKeyRoutes: FastifyPluginAsyncZod<{ apiKeys: ApiKeyService }> = async (app, { apiKeys }) => {
  app.addHook('onRequest', app.authenticate);
  const common = { tags: ['api-keys'], security: [{ bearer: [] }] };

  app.post(
    '/api-keys',
    { schema: { ...common, summary: 'Create an API key (its secret is shown only once)', body: createApiKeyBody, response: { 201: createdApiKeyResponse } } },
    async (request, reply) => {
      const created = await apiKeys.create(request.creatorId, request.body.name);
      const { lastUsedAt: _unused, ...shown } = toResponse(created);
      return reply.status(201).send({ ...shown, key: created.key });
    },
  );

  app.get('/api-keys', { schema: { ...common, summary: 'List API keys', response: { 200: apiKeyListResponse } } }, async (request) => ({
    apiKeys: (await apiKeys.list(request.creatorId)).map(toResponse),
  }));

  app.delete(
    '/api-keys/:id',
    { schema: { ...common, summary: 'Delete an API key; it stops working at once', params: apiKeyParams, response: { 204: z.null().describe('Deleted') } } },
    async (request, reply) => {
      await apiKeys.delete(request.creatorId, request.params.id);
      return reply.status(204).send(null);
    },
  );
};
