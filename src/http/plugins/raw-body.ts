import type { FastifyInstance } from 'fastify';
import { ValidationError } from '../../errors/app.errors.js';

/**
 * Makes JSON bodies arrive as the exact bytes received (a Buffer) in this plugin's routes, so a
 * provider's signature can be checked over them before anything is parsed. Call it inside the
 * webhook's own plugin: Fastify scopes content-type parsers to the plugin that adds them.
 */
export function acceptRawBody(app: FastifyInstance, bodyLimit?: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', ...(bodyLimit ? { bodyLimit } : {}) }, (_request, body, done) => done(null, body));
}

/** Parses a verified raw body as JSON; a 400 VALIDATION_FAILED naming the problem when it is not. */
export function parseJsonBody(raw: unknown): unknown {
  if (!Buffer.isBuffer(raw)) throw new ValidationError('Expected a JSON body');
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new ValidationError(`Malformed JSON: ${(err as Error).message}`);
  }
}
