import { UnrecoverableError } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DocumentRepository } from '../../src/db/document.repository.js';
import type { QueueJob } from '../../src/jobs/queues.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { createIngestFailureListener, SET_ASIDE_REASON } from '../../workers/ingest.worker.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

let db: TestDatabase;
let documents: DocumentRepository;
let botId: string;
const told: Array<{ documentId: string; reason: string }> = [];
let listener: ReturnType<typeof createIngestFailureListener>;

beforeAll(async () => {
  db = await createTestDatabase();
  documents = new DocumentRepository(db.pool);
  const creator = await db.pool.query("INSERT INTO creators (email, name, password_hash) VALUES ('stall@example.test', 'Coach', 'x') RETURNING id");
  const bot = await db.pool.query("INSERT INTO bots (creator_id, name) VALUES ($1, 'Bot') RETURNING id", [creator.rows[0].id]);
  botId = bot.rows[0].id;
  listener = createIngestFailureListener({
    documents,
    metrics: createMetrics(),
    logger: createLogger('silent'),
    onFailed: async ({ documentId, reason }) => void told.push({ documentId, reason }),
  });
});

afterAll(async () => {
  await db?.drop();
});

async function claimedDocument(run: string): Promise<string> {
  const { rows } = await db.pool.query("INSERT INTO documents (bot_id, title, source_kind) VALUES ($1, 'notes', 'upload') RETURNING id", [botId]);
  await documents.claim(botId, rows[0].id, run);
  return rows[0].id;
}

// The job as BullMQ hands it to a `failed` listener after failing it without running the processor.
function failedJob(documentId: string, run: string): QueueJob<'ingest'> {
  return { id: run, data: { botId, documentId }, opts: { attempts: 5 }, attemptsMade: 1, timestamp: Date.now() } as unknown as QueueJob<'ingest'>;
}

const statusOf = async (id: string) => (await db.pool.query('SELECT status, error FROM documents WHERE id = $1', [id])).rows[0];

describe('a job the queue fails for stalling too often', () => {
  it('leaves its document failed with the set-aside reason, and tells the creator, instead of processing forever', async () => {
    const id = await claimedDocument('ingest_run_a');
    await listener(failedJob(id, 'ingest_run_a'), new UnrecoverableError('job stalled more than allowable limit'));
    expect(await statusOf(id)).toEqual({ status: 'failed', error: SET_ASIDE_REASON });
    expect(told).toEqual([{ documentId: id, reason: SET_ASIDE_REASON }]);
  });

  it('changes nothing for a document that settled, or that a newer run has taken', async () => {
    const settled = await claimedDocument('ingest_run_b');
    await documents.markFailed(botId, settled, 'The PDF is password-protected');
    await listener(failedJob(settled, 'ingest_run_b'), new UnrecoverableError('The PDF is password-protected'));
    expect(await statusOf(settled)).toEqual({ status: 'failed', error: 'The PDF is password-protected' });

    const retaken = await claimedDocument('ingest_run_c');
    await documents.claim(botId, retaken, 'ingest_run_d');
    await listener(failedJob(retaken, 'ingest_run_c'), new UnrecoverableError('job stalled more than allowable limit'));
    expect(await statusOf(retaken)).toEqual({ status: 'processing', error: null });
    expect(told).toHaveLength(1);
  });
});
