import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every Prometheus metric the platform exports, on one registry per process. */
export interface Metrics {
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  ingestDocuments: Counter<'outcome'>;
  ingestPages: Counter;
  ingestChunks: Counter;
  ingestDuration: Histogram<'stage'>;
  queueJobs: Gauge<'queue' | 'state'>;
  /** Turns refused before any model call, by reason (contact_rate, model_budget). */
  turnsRefused: Counter<'reason'>;
  /** Requests sent to the chat model, by bot and purpose (reply, summary). */
  modelCalls: Counter<'bot' | 'purpose'>;
  /** The operator's usage caps as configured (max_context_tokens, max_answer_tokens, contact_messages_per_minute, bot_model_calls_per_minute). */
  usageCaps: Gauge<'cap'>;
}

/** Creates the registry; `collectQueueCounts` runs at scrape time to report queue depth. */
export function createMetrics(collectQueueCounts?: () => Promise<Record<string, Record<string, number>>>): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const queueJobs = new Gauge({
    name: 'coach_queue_jobs',
    help: 'Jobs per queue and state',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      if (!collectQueueCounts) return;
      const counts = await collectQueueCounts().catch(() => ({}));
      for (const [queue, states] of Object.entries(counts)) {
        for (const [state, n] of Object.entries(states)) this.set({ queue, state }, n);
      }
    },
  });
  return {
    registry,
    queueJobs,
    httpRequestDuration: new Histogram({
      name: 'coach_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    ingestDocuments: new Counter({
      name: 'coach_ingest_documents_total',
      help: 'Documents ingested, by outcome (ready, failed, unchanged)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    turnsRefused: new Counter({
      name: 'coach_turns_refused_total',
      help: 'Turns answered without the model because a usage limit was reached (contact_rate, model_budget)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    modelCalls: new Counter({
      name: 'coach_model_calls_total',
      help: 'Requests sent to the chat model, by bot and purpose (reply, summary)',
      labelNames: ['bot', 'purpose'] as const,
      registers: [registry],
    }),
    usageCaps: new Gauge({ name: 'coach_usage_cap', help: 'Usage caps as configured', labelNames: ['cap'] as const, registers: [registry] }),
    ingestPages: new Counter({ name: 'coach_ingest_pages_total', help: 'Pages (or page-equivalents) extracted', registers: [registry] }),
    ingestChunks: new Counter({ name: 'coach_ingest_chunks_total', help: 'Chunks stored', registers: [registry] }),
    ingestDuration: new Histogram({
      name: 'coach_ingest_stage_duration_seconds',
      help: 'Ingestion time by stage (fetch, load, split, embed, store)',
      labelNames: ['stage'] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers: [registry],
    }),
  };
}
