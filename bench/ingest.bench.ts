/**
 * Ingestion throughput: fixture PDFs uploaded through the API, ingested by the real worker on a
 * fresh PostgreSQL database (pgvector store, Ollama embeddings from a local fake that answers at
 * once). Per-stage time comes from the platform's own Prometheus histogram. The baseline, measured
 * in the same run, is bare text extraction of the same PDFs with unpdf: the floor any pipeline pays.
 *
 *   npm run bench:ingest -- [--copies 15]
 */
import os from 'node:os';
import { extractText, getDocumentProxy } from 'unpdf';
import { fixture } from '../test/support/fixtures.js';
import { signUpCreator, createBot } from '../test/support/creator-session.js';
import { startFakeOllama } from '../test/support/fake-ollama.js';
import { multipart } from '../test/support/multipart.js';
import { startTestPlatform } from '../test/support/test-platform.js';
import { waitFor } from '../test/support/wait-for.js';
import { saveResults } from './bench-report.js';

const copies = Number(process.argv[process.argv.indexOf('--copies') + 1]) || 15;
const pdfs = ['docs/pdfjs__tracemonkey.pdf', 'docs/pdfjs__copy_paste_ligatures.pdf'].map((name) => ({ name, bytes: fixture(name) }));

async function baselineExtraction(): Promise<{ pages: number; seconds: number }> {
  const started = performance.now();
  let pages = 0;
  for (let i = 0; i < copies; i++) {
    for (const pdf of pdfs) {
      const proxy = await getDocumentProxy(new Uint8Array(pdf.bytes));
      const { totalPages } = await extractText(proxy, { mergePages: false });
      pages += totalPages;
    }
  }
  return { pages, seconds: (performance.now() - started) / 1000 };
}

async function stageSeconds(platform: Awaited<ReturnType<typeof startTestPlatform>>): Promise<Record<string, number>> {
  const metric = await platform.infrastructure.metrics.ingestDuration.get();
  const sums: Record<string, number> = {};
  for (const value of metric.values) {
    if (value.metricName?.endsWith('_sum')) sums[String(value.labels.stage)] = value.value;
  }
  return sums;
}

async function main() {
  const ollama = await startFakeOllama({ dims: 768 });
  const platform = await startTestPlatform({ OLLAMA_HOST: ollama.url, INGEST_CONCURRENCY: '2', UPLOAD_MAX_BYTES: String(50 * 1024 * 1024) });
  try {
    const session = await signUpCreator(platform.app);
    const bot = await createBot(platform.app, session.auth);

    const started = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < copies; i++) {
      for (const pdf of pdfs) {
        const body = multipart({ name: `${i}-${pdf.name.split('/').pop()}`, type: 'application/pdf', bytes: pdf.bytes });
        const response = await platform.app.inject({ method: 'POST', url: `/v1/bots/${bot.id}/documents`, headers: { ...session.auth, ...body.headers }, payload: body.payload });
        if (response.statusCode !== 202) throw new Error(`upload failed: ${response.statusCode} ${response.body}`);
        ids.push(response.json().id);
      }
    }
    const uploadSeconds = (performance.now() - started) / 1000;
    const documents = await waitFor(
      async () => {
        const { rows } = await platform.infrastructure.database.pool.query<{ status: string; page_count: number; chunk_count: number; retrieval_mode: string }>(
          'SELECT status, page_count, chunk_count, retrieval_mode FROM documents WHERE bot_id = $1',
          [bot.id],
        );
        if (rows.some((r) => r.status === 'failed')) throw new Error('a document failed to ingest');
        return rows.length === ids.length && rows.every((r) => r.status === 'ready') ? rows : undefined;
      },
      { timeoutMs: 600_000, intervalMs: 50, what: 'every document ready' },
    );
    const wallSeconds = (performance.now() - started) / 1000;
    const pages = documents.reduce((sum, d) => sum + d.page_count, 0);
    const chunks = documents.reduce((sum, d) => sum + d.chunk_count, 0);
    const stages = await stageSeconds(platform);
    const withoutEmbedding = (stages.load ?? 0) + (stages.split ?? 0) + (stages.store ?? 0) + (stages.fetch ?? 0);
    const baseline = await baselineExtraction();

    const figures = {
      machine: { cpus: os.cpus().length, node: process.version },
      documents: ids.length,
      pages,
      chunks,
      hybrid: documents.every((d) => d.retrieval_mode === 'hybrid'),
      uploadSeconds,
      wallSeconds,
      endToEndPagesPerSecond: pages / wallSeconds,
      stageSeconds: stages,
      pagesPerSecondExcludingEmbedding: pages / withoutEmbedding,
      embeddingSeconds: stages.embed ?? 0,
      baseline: { what: 'unpdf extractText of the same PDFs, sequential', pagesPerSecond: baseline.pages / baseline.seconds },
    };
    const ratio = figures.pagesPerSecondExcludingEmbedding / figures.baseline.pagesPerSecond;
    console.log(`documents ${ids.length}, pages ${pages}, chunks ${chunks}, hybrid ${figures.hybrid}`);
    console.log(`end to end (upload → ready, 2 ingest workers, embedding by an instant fake): ${figures.endToEndPagesPerSecond.toFixed(1)} pages/s over ${wallSeconds.toFixed(2)} s`);
    console.log(`stage time, summed over documents (s): ${Object.entries(stages).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
    console.log(`extraction + split + store: ${figures.pagesPerSecondExcludingEmbedding.toFixed(1)} pages/s (target ≥ 30)`);
    console.log(`baseline, bare unpdf extraction: ${figures.baseline.pagesPerSecond.toFixed(1)} pages/s`);
    console.log(`ratio pipeline/baseline: ${ratio.toFixed(2)}`);
    console.log(`saved ${saveResults('ingest', { ...figures, ratio })}`);
    console.log(`ingest_pages_per_s=${figures.pagesPerSecondExcludingEmbedding.toFixed(1)} baseline_pages_per_s=${figures.baseline.pagesPerSecond.toFixed(1)} ratio=${ratio.toFixed(2)}`);
  } finally {
    await platform.stop();
    await ollama.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
