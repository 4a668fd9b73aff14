import fp from 'fastify-plugin';
import { hasUnstorableText } from '../../text/storable-text.js';
import { ValidationError } from '../../errors/app.errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route makes unstorable text storable itself (channel webhooks, web chat) instead of refusing it. */
    cleansText?: boolean;
  }
}

const MESSAGE = 'contains a character that cannot be stored (NUL or an unpaired surrogate)';

// Where the first unstorable string (or key) sits, as the validation errors name fields: body.settings.tone.
function unstorableField(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return hasUnstorableText(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = unstorableField(item, `${path}.${index}`);
      if (found) return found;
    }
    return undefined;
  }
  // Plain parsed JSON only: raw webhook bodies (Buffers) are checked over their bytes by their routes.
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return undefined;
  for (const [key, item] of Object.entries(value)) {
    if (hasUnstorableText(key)) return `${path}.${key.replace(/[^\x20-\x7e]/g, '?')}`;
    const found = unstorableField(item, `${path}.${key}`);
    if (found) return found;
  }
  return undefined;
}

/**
 * Refuses, with 400 VALIDATION_FAILED naming the field, a request whose path, query or JSON body
 * holds a NUL or lone surrogate: PostgreSQL would refuse it later, half-way through the work.
 */
export const storableInputPlugin = fp(
  async (app) => {
    app.addHook('preValidation', async (request) => {
      if (request.routeOptions.config?.cleansText) return;
      for (const [where, value] of [['params', request.params], ['querystring', request.query], ['body', request.body]] as const) {
        const field = unstorableField(value, where);
        if (field) throw new ValidationError(`${field}: ${MESSAGE}`, { issues: [{ field, message: MESSAGE }] });
      }
    });
  },
  { name: 'storable-input', fastify: '5.x' },
);
