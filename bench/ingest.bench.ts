/**
 * Ingestion throughput: fixture PDFs uploaded through the API, ingested by the real worker on a
 * fresh PostgreSQL database (pgvector store, Ollama embeddings from a local fake that answers at
 * once). Per-stage time comes from the platform's own Prometheus histogram. The baseline, measured
 * in the same run, is bare text extraction of the same PDFs with unpdf: the floor any pipeline pays.
 * Subtitles: a generated one-hour SRT (a cue every 3 s) read and split by the pipeline's loader and
 * through the API, next to a bare parse of its cues in the same run. Spreadsheets: see spreadsheet-ingest.ts.
 * Re-embedding: the same PDFs' passages switched to a second embedding model of another dimension
 * (PATCH of the bot's embeddingModel → every document searched by the new vectors and the old
 * ones deleted), next to the embedding stage of their ingestion in the same run.
 *
 * Slide decks, e-books and workspace exports: see book-deck-export.figures.ts.
 *
 *   npm run bench:ingest -- [--copies 15]
 */
import os from 'node:os';
import { extractText, getDocumentProxy } from 'unpdf';
import { parseCues } from '../rag/loaders/subtitle-cues.js';
import { SubtitlesLoader } from '../rag/loaders/subtitles.loader.js';
import { TextSplitter } from '../rag/split.js';
import { fixture } from '../test/support/fixtures.js';
import { signUpCreator, createBot } from '../test/support/creator-session.js';
import { startFakeOllama } from '../test/support/fake-ollama.js';
import { multipart } from '../test/support/multipart.js';
import { startTestPlatform } from '../test/support/test-platform.js';
import { waitFor } from '../test/support/wait-for.js';
import { saveResults } from './bench-report.js';
import { bookDeckExportFigures, describeBookDeckExport } from './book-deck-export.figures.js';
import { spreadsheetFigures, spreadsheetSummary } from './spreadsheet-ingest.js';
import { ingestThroughApi } from './ingest-through-api.js';

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

const SUBTITLE_COPIES = 5;
const words = ['sleep', 'habit', 'morning', 'light', 'water', 'walk', 'breathe', 'protein', 'rest', 'focus', 'evening', 'routine', 'energy', 'calm'];

/** A one-hour lesson's subtitles: a cue every 3 s, sentences spread over one or two cues, some styled. */
function generatedSrt(): { text: string; cues: number } {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const stamp = (ms: number) => `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)},${pad(ms % 1000, 3)}`;
  const blocks: string[] = [];
  const cues = 1200;
  for (let i = 0; i < cues; i++) {
    const w = (k: number) => words[(i * 7 + k * 3) % words.length];
    const line = `${i % 5 === 0 ? '<i>' : ''}Today the ${w(0)} and ${w(1)} part of the ${w(2)} lesson${i % 5 === 0 ? '</i>' : ''}${i % 2 ? '.' : ','}`;
    blocks.push(`${i + 1}\r\n${stamp(i * 3000)} --> ${stamp(i * 3000 + 2800)}\r\n${line}\r\nwith ${w(3)} &amp; ${w(4)}${i % 2 ? ' every day.' : ''}\r\n`);
  }
  return { text: blocks.join('\r\n'), cues };
}

async function subtitleFigures(platform: Awaited<ReturnType<typeof startTestPlatform>>, session: Awaited<ReturnType<typeof signUpCreator>>) {
  const srt = generatedSrt();
  const bytes = Buffer.from(srt.text);
  const rounds = 20;
  // Warm both paths once so neither pays first-call compilation in the timed runs.
  parseCues(srt.text, 'srt');
  const splitter = new TextSplitter({ chunkSize: 1000, chunkOverlap: 150 });
  await splitter.split(await new SubtitlesLoader().load({ bytes, mediaType: 'application/x-subrip', filename: 'lesson.srt' }));

  let started = performance.now();
  for (let i = 0; i < rounds; i++) parseCues(new TextDecoder().decode(bytes), 'srt');
  const bareSeconds = (performance.now() - started) / 1000;

  started = performance.now();
  let passages = 0;
  let chunks = 0;
  for (let i = 0; i < rounds; i++) {
    const loaded = await new SubtitlesLoader().load({ bytes, mediaType: 'application/x-subrip', filename: 'lesson.srt' });
    passages = loaded.pages.length;
    chunks = (await splitter.split(loaded)).length;
  }
  const pipelineSeconds = (performance.now() - started) / 1000;

  const endToEndSeconds = await ingestThroughApi(
    platform,
    session,
    Array.from({ length: SUBTITLE_COPIES }, (_, i) => ({ name: `lesson-${i}.srt`, type: 'application/x-subrip', bytes })),
    'subtitle file',
  );
  return {
    file: { cues: srt.cues, bytes: bytes.length, passages, chunks, hours: 1 },
    cuesPerSecondLoadAndSplit: (srt.cues * rounds) / pipelineSeconds,
    cuesPerSecondEndToEnd: (srt.cues * SUBTITLE_COPIES) / endToEndSeconds,
    endToEndDocuments: SUBTITLE_COPIES,
    baseline: { what: 'parseCues of the same file (decode and cue parsing only, no passages or splitting)', cuesPerSecond: (srt.cues * rounds) / bareSeconds },
  };
}

const REEMBED_MODEL = 'bench-embed-wide';

/** Switches the bot to REEMBED_MODEL and times the background re-embedding until every document has switched. */
async function reembedFigures(
  platform: Awaited<ReturnType<typeof startTestPlatform>>,
  session: Awaited<ReturnType<typeof signUpCreator>>,
  botId: string,
  chunks: number,
  ingestEmbeddingSeconds: number,
) {
  const pool = platform.infrastructure.database.pool;
  const started = performance.now();
  const patched = await platform.app.inject({ method: 'PATCH', url: `/v1/bots/${botId}`, headers: session.auth, payload: { settings: { embeddingModel: REEMBED_MODEL } } });
  if (patched.statusCode !== 200) throw new Error(`settings update failed: ${patched.statusCode} ${patched.body}`);
  await waitFor(
    async () => {
      // Done when every document has switched and the old model's vectors are gone.
      const { rows } = await pool.query<{ n: number }>(
        `SELECT (SELECT count(*) FROM documents WHERE bot_id = $1 AND embedding_model IS DISTINCT FROM $2)
              + (SELECT count(*) FROM chunk_embeddings WHERE bot_id = $1 AND model <> $2) AS n`,
        [botId, REEMBED_MODEL],
      );
      return Number(rows[0]!.n) === 0 || undefined;
    },
    { timeoutMs: 600_000, intervalMs: 50, what: 'every document re-embedded and the old vectors deleted' },
  );
  const seconds = (performance.now() - started) / 1000;
  const { rows } = await pool.query<{ model: string; n: number }>('SELECT model, count(*)::int AS n FROM chunk_embeddings WHERE bot_id = $1 GROUP BY model', [botId]);
  if (rows.length !== 1 || rows[0]!.model !== REEMBED_MODEL || rows[0]!.n !== chunks) throw new Error(`unexpected vectors after re-embedding: ${JSON.stringify(rows)}`);
  return {
    model: REEMBED_MODEL,
    passages: chunks,
    seconds,
    passagesPerSecond: chunks / seconds,
    baseline: {
      what: 'embedding stage of ingesting the same passages (embedding requests and vector writes, summed over documents)',
      passagesPerSecond: chunks / ingestEmbeddingSeconds,
    },
  };
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
  const ollama = await startFakeOllama({ dims: 768, models: ['nomic-embed-text:latest', `${REEMBED_MODEL}:latest`], modelDims: { [REEMBED_MODEL]: 1024 } });
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
    const reembed = await reembedFigures(platform, session, bot.id, chunks, figures.embeddingSeconds);
    const reembedRatio = reembed.passagesPerSecond / reembed.baseline.passagesPerSecond;
    const subtitles = await subtitleFigures(platform, session);
    const ratio = figures.pagesPerSecondExcludingEmbedding / figures.baseline.pagesPerSecond;
    const subtitleRatio = subtitles.cuesPerSecondLoadAndSplit / subtitles.baseline.cuesPerSecond;
    console.log(`documents ${ids.length}, pages ${pages}, chunks ${chunks}, hybrid ${figures.hybrid}`);
    console.log(`end to end (upload → ready, 2 ingest workers, embedding by an instant fake): ${figures.endToEndPagesPerSecond.toFixed(1)} pages/s over ${wallSeconds.toFixed(2)} s`);
    console.log(`stage time, summed over documents (s): ${Object.entries(stages).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
    console.log(`extraction + split + store: ${figures.pagesPerSecondExcludingEmbedding.toFixed(1)} pages/s (target ≥ 30)`);
    console.log(`baseline, bare unpdf extraction: ${figures.baseline.pagesPerSecond.toFixed(1)} pages/s`);
    console.log(`ratio pipeline/baseline: ${ratio.toFixed(2)}`);
    console.log(
      `subtitles (1-hour SRT, ${subtitles.file.cues} cues → ${subtitles.file.passages} passages → ${subtitles.file.chunks} chunks): load + split ${subtitles.cuesPerSecondLoadAndSplit.toFixed(0)} cues/s, bare parse ${subtitles.baseline.cuesPerSecond.toFixed(0)} cues/s, ratio ${subtitleRatio.toFixed(2)}; end to end through the API ${subtitles.cuesPerSecondEndToEnd.toFixed(0)} cues/s`,
    );
    console.log(
      `re-embedding (${reembed.passages} passages, 768-d → 1024-d model, in the background until every document switched): ${reembed.passagesPerSecond.toFixed(0)} passages/s; ingestion's embedding stage ${reembed.baseline.passagesPerSecond.toFixed(0)} passages/s; ratio ${reembedRatio.toFixed(2)}`,
    );
    const bookDeckExport = await bookDeckExportFigures(platform, session);
    for (const line of describeBookDeckExport(bookDeckExport)) console.log(line);
    const spreadsheets = await spreadsheetFigures(platform, session);
    console.log(spreadsheetSummary(spreadsheets));
    console.log(`saved ${saveResults('ingest', { ...figures, ratio, reembed: { ...reembed, ratio: reembedRatio }, subtitles: { ...subtitles, ratio: subtitleRatio }, bookDeckExport, spreadsheets })}`);
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
