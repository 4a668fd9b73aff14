import { z } from 'zod';

export const createApiKeyBody = z.object({ name: z.string().trim().min(1).max(200) });

export const apiKeyParams = z.object({ id: z.string() });

const apiKeyFields = {
  id: z.uuid(),
  name: z.string(),
  prefix: z.string().describe('The first characters of the key, to recognise it'),
  createdAt: z.iso.datetime(),
};

export const apiKeyResponse = z.object({ ...apiKeyFields, lastUsedAt: z.iso.datetime().nullable() });

export const createdApiKeyResponse = z.object({
  ...apiKeyFields,
  key: z.string().describe('The secret; shown only in this response'),
});

export const apiKeyListResponse = z.object({ apiKeys: z.array(apiKeyResponse) });
