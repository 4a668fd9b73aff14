import { UnrecoverableError } from 'bullmq';
import { ingestDocument, type IngestPorts } from '../rag/ingest.js';
import { EmbedderError } from '../rag/embedders/ollama.embedder.js';
import { DocumentLoadError } from '../rag/types.js';
import type { QueueJob, QueueProcessor } from '../src/jobs/queues.js';
import type { Logger } from '../src/observability/logger.js';

/** Document state the worker records around the pipeline (src/db/document.repository.ts). */
export interface IngestJobStore {
  /** Marks the document processing; false when it has been deleted. */
  claim(botId: string, documentId: string): Promise<boolean>;
  markFailed(botId: string, documentId: string, reason: string): Promise<void>;
  markRetrying(botId: string, documentId: string): Promise<void>;
}

export interface IngestWorkerDeps extends Omit<IngestPorts, 'onProgress' | 'onCleanupError' | 'documents'> {
  documents: IngestPorts['documents'] & IngestJobStore;
  metrics: NonNullable<IngestPorts['metrics']> & { ingestDocuments: { inc(labels: { outcome: string }): void } };
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Told once a document is recorded failed (e.g. to email its creator); `runKey` names this ingestion run. */
  onFailed?: (failure: { botId: string; documentId: string; reason: string; runKey: string }) => Promise<void>;
}

/** What the creator reads when retries are exhausted; internal details stay in the log. */
function failureReason(err: unknown): string {
  if (err instanceof EmbedderError) return 'The embedding model (Ollama) could not process the document; try re-ingesting later';
  return 'Processing failed because of a temporary problem; try re-ingesting later';
}

/** Runs the `onFailed` hook; its own failure is logged, never allowed to change the job's outcome. */
async function notifyFailed(deps: IngestWorkerDeps, job: QueueJob<'ingest'>, reason: string): Promise<void> {
  const { botId, documentId } = job.data;
  await deps.onFailed?.({ botId, documentId, reason, runKey: job.id ?? `${documentId}_${job.timestamp}` }).catch((err: unknown) =>
    deps.logger.warn({ documentId, botId, jobId: job.id, err }, 'ingest: failure notification could not be queued'),
  );
}

function isLastAttempt(job: QueueJob<'ingest'>): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/**
 * The `ingest` queue's processor: claims the document, runs the pipeline, records the outcome.
 * An unreadable source fails at once (UnrecoverableError); anything else is retried with backoff
 * and recorded as failed only when the last attempt fails.
 */
export function createIngestProcessor(deps: IngestWorkerDeps): QueueProcessor<'ingest'> {
  return async (job) => {
    const { documentId, botId } = job.data;
    const log = { documentId, botId, jobId: job.id, attempt: job.attemptsMade + 1 };
    if (!(await deps.documents.claim(botId, documentId))) {
      deps.logger.info(log, 'ingest: document deleted before processing');
      return { outcome: 'gone' };
    }
    try {
      const result = await ingestDocument(
        { botId, documentId },
        {
          ...deps,
          onProgress: (progress) => deps.documents.setProgress(botId, documentId, progress),
          onCleanupError: (err, context) => deps.logger.warn({ ...log, err }, `ingest: ${context} failed`),
        },
      );
      if (result.outcome !== 'gone') deps.metrics.ingestDocuments.inc({ outcome: result.outcome });
      deps.logger.info({ ...log, ...result }, 'ingest: done');
      return result;
    } catch (err) {
      if (err instanceof DocumentLoadError) {
        await deps.documents.markFailed(botId, documentId, err.message);
        deps.metrics.ingestDocuments.inc({ outcome: 'failed' });
        deps.logger.info({ ...log, reason: err.message }, 'ingest: source unreadable');
        await notifyFailed(deps, job, err.message);
        throw new UnrecoverableError(err.message);
      }
      if (isLastAttempt(job)) {
        deps.logger.error({ ...log, err }, 'ingest: failed after the last attempt');
        const recorded = await deps.documents
          .markFailed(botId, documentId, failureReason(err))
          .then(() => true)
          .catch((recordErr: unknown) => {
            deps.logger.error({ ...log, err: recordErr }, 'ingest: could not record the failure');
            return false;
          });
        deps.metrics.ingestDocuments.inc({ outcome: 'failed' });
        if (recorded) await notifyFailed(deps, job, failureReason(err));
      } else {
        deps.logger.warn({ ...log, err }, 'ingest: attempt failed; will retry');
        await deps.documents
          .markRetrying(botId, documentId)
          .catch((recordErr: unknown) => deps.logger.warn({ ...log, err: recordErr }, 'ingest: could not record the retry'));
      }
      throw err;
    }
  };
}
