import { UnrecoverableError } from 'bullmq';
import { ingestDocument, type IngestPorts } from '../rag/ingest.js';
import { EmbedderError } from '../rag/embedders/ollama.embedder.js';
import { DocumentLoadError } from '../rag/types.js';
import type { QueueJob, QueueProcessor } from '../src/jobs/queues.js';
import type { Logger } from '../src/observability/logger.js';

/** Document state the worker records around the pipeline (src/db/document.repository.ts). */
export interface IngestJobStore {
  /**
   * Marks the document processing by `run`; null when it has been deleted. `openClaims` counts the
   * run's claims since one of its attempts last finished (recorded ready, unchanged, retrying or failed).
   */
  claim(botId: string, documentId: string, run: string): Promise<{ openClaims: number } | null>;
  markFailed(botId: string, documentId: string, reason: string): Promise<void>;
  markRetrying(botId: string, documentId: string): Promise<void>;
  /** Fails the document if `run` still has it queued or processing; false otherwise. */
  failUnsettledRun(botId: string, documentId: string, run: string, reason: string): Promise<boolean>;
}

/** What the creator reads about a document whose processing twice took its worker down. */
export const SET_ASIDE_REASON = 'Processing this document stopped the worker twice, so it was set aside; try a smaller or simpler file';

// Claims of one run that never finished: the third one is refused rather than risk a third crash.
const MAX_OPEN_CLAIMS = 2;

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

/** Names one ingestion run: the job id, which each upload and each re-ingest gets anew. */
function runOf(job: QueueJob<'ingest'>): string {
  return job.id ?? `${job.data.documentId}_${job.timestamp}`;
}

/** Runs the `onFailed` hook; its own failure is logged, never allowed to change the job's outcome. */
async function notifyFailed(deps: Pick<IngestWorkerDeps, 'onFailed' | 'logger'>, job: QueueJob<'ingest'>, reason: string): Promise<void> {
  const { botId, documentId } = job.data;
  await deps.onFailed?.({ botId, documentId, reason, runKey: runOf(job) }).catch((err: unknown) =>
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
    const claim = await deps.documents.claim(botId, documentId, runOf(job));
    if (!claim) {
      deps.logger.info(log, 'ingest: document deleted before processing');
      return { outcome: 'gone' };
    }
    if (claim.openClaims > MAX_OPEN_CLAIMS) {
      // Two earlier claims of this run never finished: the process died (or hung) while on it.
      deps.logger.error({ ...log, claims: claim.openClaims }, 'ingest: document set aside after stopping its worker twice');
      await deps.documents.markFailed(botId, documentId, SET_ASIDE_REASON);
      deps.metrics.ingestDocuments.inc({ outcome: 'failed' });
      await notifyFailed(deps, job, SET_ASIDE_REASON);
      throw new UnrecoverableError(SET_ASIDE_REASON);
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

/**
 * Listener for the ingest queue's failed jobs. BullMQ fails a job that stalled more often than it
 * allows without running the processor again; the document that job was processing is then recorded
 * failed with the set-aside reason (and its creator told) instead of staying `processing` forever.
 * Failures the processor recorded itself leave the document settled, so nothing happens for them.
 */
export function createIngestFailureListener(deps: Pick<IngestWorkerDeps, 'documents' | 'metrics' | 'logger' | 'onFailed'>) {
  return async (job: QueueJob<'ingest'>, err: Error): Promise<void> => {
    // Retried attempts fail too; only a final failure can leave the document behind.
    if (err.name !== 'UnrecoverableError' && !(job.finishedOn && job.attemptsMade >= (job.opts.attempts ?? 1))) return;
    const { botId, documentId } = job.data;
    try {
      if (!(await deps.documents.failUnsettledRun(botId, documentId, runOf(job), SET_ASIDE_REASON))) return;
    } catch (recordErr) {
      deps.logger.error({ documentId, botId, jobId: job.id, err: recordErr }, 'ingest: could not record a stalled job as failed');
      return;
    }
    deps.logger.error({ documentId, botId, jobId: job.id, reason: err.message }, 'ingest: job failed by the queue; document set aside');
    deps.metrics.ingestDocuments.inc({ outcome: 'failed' });
    await notifyFailed(deps, job, SET_ASIDE_REASON);
  };
}
