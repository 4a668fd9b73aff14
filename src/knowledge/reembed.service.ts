import { createHash } from 'node:crypto';

/** One document to re-embed with `model`, or whose abandoned target `model` left vectors behind. */
export interface ReembedTask {
  botId: string;
  documentId: string;
  model: string;
}

export interface ReembedPlan {
  /** Documents to re-embed (their jobs are made sure of, whether new or resumed). */
  pending: ReembedTask[];
  /** Re-embeddings no longer wanted (the bot went back, or on to a third model): their vectors go. */
  abandoned: ReembedTask[];
}

/** Persistence port of the planning (src/db/reembed.repository.ts). */
export interface ReembedPlanStore {
  /**
   * Compares each embedded document (of `botId`, or of every bot) with the model its bot wants
   * (its setting, else `defaultModel`) and records what is to be done.
   */
  plan(defaultModel: string, scope?: { botId: string; documentId?: string | undefined }): Promise<ReembedPlan>;
  /** Documents switched to a new model whose old model's vectors were not deleted yet (a worker stopped in between). */
  retired(scope?: { botId: string }): Promise<ReembedTask[]>;
  clearRetired(botId: string, documentId: string, model: string): Promise<void>;
}

export interface ReembedServiceOptions {
  store: ReembedPlanStore;
  /** Adds the job unless a live one has its id (a finished one is replaced). */
  queue: { ensure(job: ReembedTask, jobId: string): Promise<unknown> };
  vectors: { deleteDocument(botId: string, documentId: string, model?: string): Promise<void> };
  /** The deployment's embedding model (OLLAMA_EMBED_MODEL). */
  defaultModel: string;
  onCleanupError?: (err: unknown, context: string) => void;
}

/** Job ids may not contain ':', which model names do; one job per document and model, so duplicates collapse. */
export function reembedJobId(task: ReembedTask): string {
  return `reembed_${task.documentId}_${createHash('sha256').update(task.model).digest('hex').slice(0, 16)}`;
}

/**
 * Keeps documents on the embedding model their bot wants: after a change of OLLAMA_EMBED_MODEL (at
 * start-up) or of a bot's setting, every affected document gets a background job, and jobs of a run
 * that stopped are made sure of again.
 */
export class ReembedService {
  constructor(private readonly options: ReembedServiceOptions) {}

  /** Plans and queues the re-embedding of one bot's documents (or one document), or of every bot's. */
  async reconcile(botId?: string, documentId?: string): Promise<{ documents: number; models: string[] }> {
    const { pending, abandoned } = await this.options.store.plan(this.options.defaultModel, botId === undefined ? undefined : { botId, documentId });
    for (const task of abandoned) {
      await this.options.vectors
        .deleteDocument(task.botId, task.documentId, task.model)
        .catch((err: unknown) => this.options.onCleanupError?.(err, 'removing vectors of an abandoned re-embedding'));
    }
    if (documentId === undefined) {
      for (const task of await this.options.store.retired(botId === undefined ? undefined : { botId })) {
        await this.options.vectors
          .deleteDocument(task.botId, task.documentId, task.model)
          .then(() => this.options.store.clearRetired(task.botId, task.documentId, task.model))
          .catch((err: unknown) => this.options.onCleanupError?.(err, 'removing vectors of a previous embedding model'));
      }
    }
    for (const task of pending) await this.options.queue.ensure(task, reembedJobId(task));
    return { documents: pending.length, models: [...new Set(pending.map((t) => t.model))] };
  }
}
