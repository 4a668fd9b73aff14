import { jsonSchemaTransform } from 'fastify-type-provider-zod';

/** An OpenAPI request body by media type: `{ 'multipart/form-data': { schema: {...} } }`. */
export type DocumentedBody = Record<string, { schema: Record<string, unknown> }>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The request body as the API documentation shows it, for a route that reads its body itself
     * (a multipart upload) and so declares no body schema to validate against.
     */
    documentedBody?: DocumentedBody;
  }
}

/** The zod schemas' OpenAPI transform, plus the documentation-only bodies routes declare in their config. */
export const openApiTransform: typeof jsonSchemaTransform = (input) => {
  const transformed = jsonSchemaTransform(input);
  const documented = input.route.config?.documentedBody;
  if (!documented) return transformed;
  return { ...transformed, schema: { ...transformed.schema, body: { content: documented } } };
};
