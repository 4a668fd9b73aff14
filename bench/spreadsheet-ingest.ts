/**
 * Spreadsheet figures of `npm run bench:ingest`: a generated price list (CSV and XLSX) read and
 * split by the pipeline's loaders, next to the bare parsers in the same run (csv-parse alone;
 * unpacking and fast-xml-parser alone, and ExcelJS reading the same workbook), the community
 * CSVLoader of @langchain/community when it is installed apart (never a dependency of ours), and
 * both files through the API to ready.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { XMLParser } from 'fast-xml-parser';
import { CsvLoader } from '../rag/loaders/csv.loader.js';
import { DEFAULT_LOAD_LIMITS } from '../rag/loaders/load-limits.js';
import { XLSX } from '../rag/loaders/media-type.js';
import { XlsxLoader } from '../rag/loaders/xlsx.loader.js';
import { inflateWithin } from '../rag/loaders/zip-inflate.js';
import { TextSplitter } from '../rag/split.js';
import type { LoadedDocument } from '../rag/types.js';
import type { TestPlatform } from '../test/support/test-platform.js';
import type { CreatorSession } from '../test/support/creator-session.js';
import { ingestThroughApi } from './ingest-through-api.js';

const ROWS = 10_000;
const ROUNDS = 3;
const COMMUNITY_DIR = '/root/.cache/coachbot-langchain-community';

function rowsOf(n: number): string[][] {
  const topics = ['Sleep', 'Habits', 'Nutrition', 'Movement', 'Focus', 'Stress'];
  return Array.from({ length: n }, (_, i) => [
    `${topics[i % topics.length]} plan ${i + 1}`,
    `${(20 + (i % 80)).toFixed(2)} €`,
    `${4 + (i % 9)} weeks`,
    i % 3 === 0 ? 'Includes a weekly call, "ask me anything" chat and a workbook' : 'Self-paced, with daily check-ins',
    `Level ${1 + (i % 3)}`,
  ]);
}

const HEADER = ['Plan', 'Price', 'Duration', 'What you get', 'Level'];

function csvText(rows: string[][]): string {
  const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [HEADER, ...rows].map((r) => r.map(quote).join(',')).join('\n');
}

async function xlsxBytes(rows: string[][]): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  book.addWorksheet('Plans').addRows([HEADER, ...rows]);
  return Buffer.from(await book.xlsx.writeBuffer());
}

/** Rows per second of `work` over ROUNDS runs (after one untimed warm-up run). */
async function rowsPerSecond(work: () => Promise<unknown> | unknown, rows = ROWS): Promise<number> {
  await work();
  const started = performance.now();
  for (let i = 0; i < ROUNDS; i++) await work();
  return (rows * ROUNDS) / ((performance.now() - started) / 1000);
}

/** @langchain/community's CSVLoader from its own folder, or undefined when it is not installed there. */
async function communityCsvLoader(): Promise<((blob: Blob) => { load(): Promise<unknown[]> }) | undefined> {
  if (!existsSync(`${COMMUNITY_DIR}/node_modules/@langchain/community`)) return undefined;
  const require = createRequire(`${COMMUNITY_DIR}/package.json`);
  const module = (await import(require.resolve('@langchain/community/document_loaders/fs/csv'))) as { CSVLoader: new (blob: Blob) => { load(): Promise<unknown[]> } };
  return (blob) => new module.CSVLoader(blob);
}

/** Rows per second of the CSV and XLSX loaders (load + split), their bare parsers, and end to end. */
export async function spreadsheetFigures(platform: TestPlatform, session: CreatorSession) {
  const rows = rowsOf(ROWS);
  const csv = Buffer.from(csvText(rows));
  const xlsx = await xlsxBytes(rows);
  const splitter = new TextSplitter({ chunkSize: 1000, chunkOverlap: 150 });
  const loadAndSplit = async (loaded: Promise<LoadedDocument>) => splitter.split(await loaded);

  const csvLoader = new CsvLoader();
  const xlsxLoader = new XlsxLoader();
  const xml = new XMLParser({ ignoreAttributes: false });
  const community = await communityCsvLoader();

  const figures = {
    rows: ROWS,
    bytes: { csv: csv.length, xlsx: xlsx.length },
    csv: {
      loadAndSplit: await rowsPerSecond(() => loadAndSplit(csvLoader.load({ bytes: csv, mediaType: 'text/csv', filename: 'plans.csv' }))),
      bareCsvParse: await rowsPerSecond(() => parse(csv.toString('utf8'), { relax_column_count: true })),
      langchainCommunityCsvLoader: community ? await rowsPerSecond(() => community(new Blob([csv], { type: 'text/csv' })).load()) : null,
    },
    xlsx: {
      loadAndSplit: await rowsPerSecond(() => loadAndSplit(xlsxLoader.load({ bytes: xlsx, mediaType: XLSX, filename: 'plans.xlsx' }))),
      bareUnzipAndXmlParse: await rowsPerSecond(() => {
        const parts = inflateWithin(xlsx, DEFAULT_LOAD_LIMITS.maxDecompressedBytes, () => new Error('too large'), (name) => name.startsWith('xl/'));
        for (const [name, part] of parts) if (name.endsWith('.xml')) xml.parse(part.toString('utf8'));
      }),
      exceljsRead: await rowsPerSecond(async () => {
        const book = new ExcelJS.Workbook();
        await book.xlsx.load(xlsx as unknown as ArrayBuffer);
        let cells = 0;
        book.eachSheet((sheet) => sheet.eachRow((row) => void (cells += row.cellCount)));
      }),
    },
    endToEndRowsPerSecond: 0,
  };
  const apiRows = 2_000;
  const small = rowsOf(apiRows);
  const seconds = await ingestThroughApi(platform, session, [
    { name: 'plans.csv', type: 'text/csv', bytes: Buffer.from(csvText(small)) },
    { name: 'plans.xlsx', type: XLSX, bytes: await xlsxBytes(small) },
  ], 'spreadsheet');
  figures.endToEndRowsPerSecond = (2 * apiRows) / seconds;
  return {
    ...figures,
    ratios: {
      csvLoaderToBareParse: figures.csv.loadAndSplit / figures.csv.bareCsvParse,
      xlsxLoaderToBareXmlParse: figures.xlsx.loadAndSplit / figures.xlsx.bareUnzipAndXmlParse,
      xlsxLoaderToExcelJs: figures.xlsx.loadAndSplit / figures.xlsx.exceljsRead,
    },
  };
}

/** The figures as the bench prints them. */
export function spreadsheetSummary(f: Awaited<ReturnType<typeof spreadsheetFigures>>): string {
  const n = (v: number) => v.toFixed(0);
  const community = f.csv.langchainCommunityCsvLoader === null ? 'skipped (not installed)' : `${n(f.csv.langchainCommunityCsvLoader)} rows/s`;
  return [
    `spreadsheets (${f.rows} rows × 5 columns): CSV load + split ${n(f.csv.loadAndSplit)} rows/s, bare csv-parse ${n(f.csv.bareCsvParse)} rows/s (ratio ${f.ratios.csvLoaderToBareParse.toFixed(2)}), @langchain/community CSVLoader ${community}`,
    `  XLSX load + split ${n(f.xlsx.loadAndSplit)} rows/s, bare unzip + XML parse ${n(f.xlsx.bareUnzipAndXmlParse)} rows/s (ratio ${f.ratios.xlsxLoaderToBareXmlParse.toFixed(2)}), ExcelJS read ${n(f.xlsx.exceljsRead)} rows/s (ratio ${f.ratios.xlsxLoaderToExcelJs.toFixed(2)}); end to end through the API ${n(f.endToEndRowsPerSecond)} rows/s`,
  ].join('\n');
}
