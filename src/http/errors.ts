import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError } from '../errors/app.errors.js';

/** The body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

function send(reply: FastifyReply, status: number, code: string, message: string, details?: Record<string, unknown>) {
  const body: ErrorBody = { error: { code, message, ...(details ? { details } : {}) } };
  return reply.status(status).send(body);
}

// Fastify's own error codes that describe a client mistake, and how we name them.
const fastifyClientErrors: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'INVALID_BODY' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'INVALID_JSON' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  FST_REQ_FILE_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  FST_PARTS_LIMIT: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  FST_FILES_LIMIT: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  FST_INVALID_MULTIPART_CONTENT_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_VALIDATION: { status: 400, code: 'VALIDATION_FAILED' },
};

/** Maps every thrown error to the public error shape; 5xx bodies never carry internals. */
export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((v) => ({
      field: [error.validationContext, ...String(v.instancePath).split('/').filter(Boolean)].join('.'),
      message: v.message ?? 'invalid',
    }));
    const first = issues[0];
    return send(reply, 400, 'VALIDATION_FAILED', first ? `${first.field}: ${first.message}` : 'Invalid request', { issues });
  }
  if (error instanceof AppError) {
    if (error.status >= 500) request.log.error({ err: error }, error.message);
    else request.log.info({ code: error.code }, error.message);
    return send(reply, error.status, error.code, error.message, error.details);
  }
  const known = error.code ? fastifyClientErrors[error.code] : undefined;
  if (known) {
    request.log.info({ code: error.code }, error.message);
    return send(reply, known.status, known.code, error.message);
  }
  if (error.statusCode === 429) {
    return send(reply, 429, 'RATE_LIMITED', error.message);
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    request.log.info({ code: error.code }, error.message);
    return send(reply, error.statusCode, error.code ?? 'BAD_REQUEST', error.message);
  }
  request.log.error({ err: error }, 'unhandled error');
  return send(reply, 500, 'INTERNAL', 'Something went wrong on our side; it has been logged.');
}

/** 404 for unknown routes, in the same shape as every other error. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  return send(reply, 404, 'ROUTE_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`);
}

/**
 * Errors Fastify raises before routing (Fastify's `frameworkErrors`), in the same shape as every
 * other error: a path segment too long to be any id names nothing (404); an undecodable path is 400.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') return send(reply, 404, 'NOT_FOUND', 'Not found: a path segment is longer than any id');
  if (error.code === 'FST_ERR_BAD_URL') return send(reply, 400, 'BAD_URL', 'The request path is not a valid URL');
  return errorHandler(error, request, reply);
}
