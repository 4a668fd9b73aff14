import { reembedDocument, type ReembedPorts } from '../rag/reembed.js';
import type { QueueProcessor } from '../src/jobs/queues.js';
import type { Logger } from '../src/observability/logger.js';

export interface ReembedWorkerDeps extends Omit<ReembedPorts, 'onCleanupError'> {
  logger: Pick<Logger, 'info' | 'warn'>;
}

/**
 * The `reembed` queue's processor: one document's chunks embedded by a new model, then the switch.
 * A failed attempt (the model unreachable) is retried with backoff and resumes where it stopped;
 * the document is searched by its old vectors meanwhile.
 */
export function createReembedProcessor(deps: ReembedWorkerDeps): QueueProcessor<'reembed'> {
  return async (job) => {
    const { botId, documentId, model } = job.data;
    const log = { documentId, botId, model, jobId: job.id, attempt: job.attemptsMade + 1 };
    const result = await reembedDocument(
      { botId, documentId, model },
      { ...deps, onCleanupError: (err, context) => deps.logger.warn({ ...log, err }, `reembed: ${context} failed`) },
    );
    deps.logger.info({ ...log, ...result }, 'reembed: done');
    return result;
  };
}
