/**
 * Slides, e-book chapters and exported files per second for the PPTX, EPUB and ZIP-export loaders,
 * next to the bare parsers they stand on (fflate unzip + fast-xml-parser, no text assembly) and,
 * where @langchain/community has a loader (EPubLoader: epub2 + html-to-text; PPTXLoader:
 * officeparser), that loader, all in the same run. Each also reports the text recovered: characters
 * and how many known sentences (a table cell, speaker notes, a list item, …) come out intact.
 * The community package cannot be a dependency of the project (its peers conflict with our zod); it
 * is loaded from a separate prefix and the comparison is skipped when that is missing.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { unzipSync } from 'fflate';
import { EpubLoader } from '../rag/loaders/epub.loader.js';
import { PptxLoader } from '../rag/loaders/pptx.loader.js';
import { ZipExportLoader } from '../rag/loaders/zip-export.loader.js';
import { TextSplitter } from '../rag/split.js';
import type { LoadedDocument } from '../rag/types.js';
import { epubBook, slideDeck, zipOf } from '../test/support/knowledge-files.js';
import type { startTestPlatform } from '../test/support/test-platform.js';
import type { signUpCreator } from '../test/support/creator-session.js';
import { ingestThroughApi } from './ingest-through-api.js';

const COMMUNITY_PREFIX = '/root/.cache/coachbot-langchain-community';
const ROUNDS = 20;
const API_COPIES = 3;

const words = ['sleep', 'habit', 'morning', 'light', 'water', 'walk', 'breathe', 'protein', 'rest', 'focus', 'evening', 'routine', 'energy', 'calm'];
const sentence = (i: number) => `Today the ${words[i % 14]} and ${words[(i * 3 + 1) % 14]} part of lesson ${i} helps with ${words[(i * 5 + 2) % 14]}.`;

interface Sample {
  what: string;
  bytes: Buffer;
  units: number;
  unit: 'slides' | 'chapters' | 'files';
  known: string[];
}

async function deckSample(): Promise<Sample> {
  const slides = Array.from({ length: 60 }, (_, i) => ({
    title: `Lesson ${i + 1}`,
    texts: [sentence(i), sentence(i + 100)],
    ...(i % 5 === 0 ? { table: [['Water', `${i} glasses`], ['Walk', `${i * 100} steps`]] } : {}),
    notes: `Speaker note ${i}: ask the group how the ${words[i % 14]} habit went this week.`,
  }));
  return {
    what: 'a 60-slide deck (titles, two text boxes, a table every fifth slide, speaker notes)',
    bytes: await slideDeck(slides),
    units: 60,
    unit: 'slides',
    known: [sentence(7), sentence(142), `Speaker note 37: ask the group how the ${words[37 % 14]} habit went this week.`, 'Water', '25 glasses'],
  };
}

function bookSample(): Sample {
  const chapters = Array.from({ length: 40 }, (_, c) => ({
    title: `Chapter ${c + 1}: ${words[c % 14]}`,
    body: `<h1>${words[c % 14]}</h1>${Array.from({ length: 12 }, (_, p) => `<p>${sentence(c * 12 + p)} ${sentence(c * 12 + p + 500)}</p>`).join('')}<ul><li>Keep a ${words[c % 14]} log</li><li>Review on Sunday</li></ul>`,
  }));
  return {
    what: 'a 40-chapter EPUB 3 (about 3 KB of text per chapter, a list in each)',
    bytes: epubBook('Bench Book', chapters),
    units: 40,
    unit: 'chapters',
    known: [sentence(3 * 12 + 4), sentence(39 * 12 + 11 + 500), 'Keep a walk log'],
  };
}

function exportSample(): Sample {
  const id = '0123456789abcdef0123456789abcdef';
  const files: Record<string, string> = {};
  for (let i = 0; i < 200; i++) {
    const folder = `Course ${id}/Week ${Math.floor(i / 20) + 1}`;
    if (i % 2) files[`${folder}/Page ${i} ${id}.md`] = `# Page ${i}\n\n${sentence(i)}\n\n- ${sentence(i + 1000)}\n`;
    else files[`${folder}/Page ${i} ${id}.html`] = `<html><body><h1>Page ${i}</h1><p>${sentence(i)}</p><ul><li>${sentence(i + 1000)}</li></ul></body></html>`;
    if (i % 10 === 0) files[`${folder}/image-${i}.png`] = 'PNG';
  }
  return { what: 'a Notion-style export of 200 pages (half Markdown, half HTML) in 10 folders, with images', bytes: zipOf(files), units: 200, unit: 'files', known: [sentence(17), sentence(1088)] };
}

const oneSpaced = (text: string) => text.replace(/\s+/g, ' ');

function recovered(text: string, known: string[]): { chars: number; knownFound: number; knownTotal: number } {
  const flat = oneSpaced(text);
  return { chars: text.length, knownFound: known.filter((k) => flat.includes(k)).length, knownTotal: known.length };
}

async function timed<T>(run: () => Promise<T> | T): Promise<{ seconds: number; result: T }> {
  let result = await run(); // warm-up: first-call compilation is paid by neither side's timed rounds
  const started = performance.now();
  for (let i = 0; i < ROUNDS; i++) result = await run();
  return { seconds: (performance.now() - started) / 1000 / ROUNDS, result };
}

const xml = new XMLParser({ ignoreAttributes: false, preserveOrder: true });

/** The floor: unzip every entry and parse (or decode) the text parts, building nothing from them. */
function bareParse(sample: Sample): number {
  const entries = unzipSync(new Uint8Array(sample.bytes));
  let parsed = 0;
  for (const [name, data] of Object.entries(entries)) {
    if (sample.unit === 'files' ? /\.(md|html)$/.test(name) : /\.(xml|xhtml|opf)$/.test(name)) {
      const text = new TextDecoder().decode(data);
      if (sample.unit !== 'files') xml.parse(text);
      parsed += 1;
    }
  }
  return parsed;
}

type CommunityLoader = (sample: Sample, file: string) => Promise<string[]>;

/** @langchain/community's loader for the kind, from its own prefix; undefined when that is not installed. */
async function communityLoaders(): Promise<{ epub?: CommunityLoader; pptx?: CommunityLoader } | undefined> {
  if (!existsSync(path.join(COMMUNITY_PREFIX, 'node_modules/@langchain/community'))) return undefined;
  const require = createRequire(path.join(COMMUNITY_PREFIX, 'package.json'));
  const load = async (specifier: string) => import(pathToFileURL(require.resolve(specifier)).href);
  const { EPubLoader } = await load('@langchain/community/document_loaders/fs/epub');
  const { PPTXLoader } = await load('@langchain/community/document_loaders/fs/pptx');
  type Docs = Array<{ pageContent: string }>;
  return {
    epub: async (_sample, file) => ((await new EPubLoader(file, { splitChapters: true }).load()) as Docs).map((d) => d.pageContent),
    pptx: async (sample) => ((await new PPTXLoader(new Blob([new Uint8Array(sample.bytes)])).load()) as Docs).map((d) => d.pageContent),
  };
}

const allText = (doc: LoadedDocument) => doc.pages.map((p) => `${p.section ?? ''}\n${p.text}`).join('\n\n');

/** Per kind: ours (load, and load + split), the bare parser and the community loader, then end to end through the API. */
export async function bookDeckExportFigures(platform: Awaited<ReturnType<typeof startTestPlatform>>, session: Awaited<ReturnType<typeof signUpCreator>>) {
  const splitter = new TextSplitter({ chunkSize: 1000, chunkOverlap: 150 });
  const community = await communityLoaders();
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'bench-files-'));
  const kinds = [
    { kind: 'pptx', sample: await deckSample(), loader: new PptxLoader(), mediaType: 'application/vnd.openxmlformats-officedocument.presentationml.presentation', name: 'deck.pptx' },
    { kind: 'epub', sample: bookSample(), loader: new EpubLoader(), mediaType: 'application/epub+zip', name: 'book.epub' },
    { kind: 'zip', sample: exportSample(), loader: new ZipExportLoader(), mediaType: 'application/zip', name: 'export.zip' },
  ] as const;
  const results: Record<string, unknown> = {};
  try {
    for (const { kind, sample, loader, mediaType, name } of kinds) {
      const file = path.join(scratch, name);
      writeFileSync(file, sample.bytes);
      const input = { bytes: sample.bytes, mediaType, filename: name };
      const ours = await timed(() => loader.load(input));
      const oursSplit = await timed(async () => splitter.split(await loader.load(input)));
      const bare = await timed(() => bareParse(sample));
      const theirs = kind === 'zip' ? undefined : community?.[kind];
      const other = theirs ? await timed(() => theirs(sample, file)) : undefined;

      const endToEndSeconds = await ingestThroughApi(
        platform,
        session,
        Array.from({ length: API_COPIES }, (_, i) => ({ name: `${i}-${name}`, type: mediaType, bytes: sample.bytes })),
        `${kind} upload`,
      );

      const perSecond = (seconds: number) => sample.units / seconds;
      results[kind] = {
        sample: { what: sample.what, bytes: sample.bytes.length, [sample.unit]: sample.units },
        unit: sample.unit,
        ours: { perSecondLoad: perSecond(ours.seconds), perSecondLoadAndSplit: perSecond(oursSplit.seconds), entries: ours.result.pages.length, chunks: oursSplit.result.length, ...recovered(allText(ours.result), sample.known) },
        bareParser: { what: 'fflate unzip + fast-xml-parser parse of the text parts (Markdown/HTML decoded), nothing assembled', perSecond: perSecond(bare.seconds) },
        community: other
          ? { what: kind === 'epub' ? '@langchain/community EPubLoader (epub2 + html-to-text)' : '@langchain/community PPTXLoader (officeparser)', perSecond: perSecond(other.seconds), documents: other.result.length, ...recovered(other.result.join('\n\n'), sample.known) }
          : { skipped: kind === 'zip' ? '@langchain/community has no loader for a ZIP of Markdown/HTML files' : `@langchain/community is not installed under ${COMMUNITY_PREFIX} (npm install --prefix ${COMMUNITY_PREFIX} --legacy-peer-deps @langchain/community@^1.1.29 @langchain/core@^1.4.0 epub2 html-to-text@9 officeparser@6 d3-dsv)` },
        endToEnd: { copies: API_COPIES, perSecond: (sample.units * API_COPIES) / endToEndSeconds },
      };
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return results;
}

/** One line per kind for the console. */
export function describeBookDeckExport(results: Record<string, unknown>): string[] {
  return Object.entries(results).map(([kind, value]) => {
    const r = value as {
      unit: string;
      ours: { perSecondLoad: number; perSecondLoadAndSplit: number; chars: number; knownFound: number; knownTotal: number };
      bareParser: { perSecond: number };
      community: { perSecond?: number; chars?: number; knownFound?: number; knownTotal?: number; documents?: number; skipped?: string };
      endToEnd: { perSecond: number };
    };
    const community = r.community.perSecond
      ? `community loader ${r.community.perSecond.toFixed(0)} ${r.unit}/s (${r.community.chars} chars, ${r.community.knownFound}/${r.community.knownTotal} known sentences, ${r.community.documents} documents)`
      : `community loader skipped: ${r.community.skipped}`;
    return `${kind}: ours ${r.ours.perSecondLoad.toFixed(0)} ${r.unit}/s load, ${r.ours.perSecondLoadAndSplit.toFixed(0)} load + split (${r.ours.chars} chars, ${r.ours.knownFound}/${r.ours.knownTotal} known sentences); bare parser ${r.bareParser.perSecond.toFixed(0)} ${r.unit}/s, ratio ${(r.ours.perSecondLoad / r.bareParser.perSecond).toFixed(2)}; ${community}; end to end through the API ${r.endToEnd.perSecond.toFixed(1)} ${r.unit}/s`;
  });
}
