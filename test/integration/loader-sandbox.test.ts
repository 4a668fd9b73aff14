import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_LOAD_LIMITS } from '../../rag/loaders/load-limits.js';
import { createLoaderRegistry } from '../../rag/loaders/loader-registry.js';
import { LoaderSandbox } from '../../rag/loaders/loader.sandbox.js';
import { TextSplitter } from '../../rag/split.js';
import { DocumentLoadError } from '../../rag/types.js';
import { fixture } from '../support/fixtures.js';
import { manyParagraphsDocx } from '../support/hostile-documents.js';

const split = { chunkSize: 400, chunkOverlap: 60 };
// No paragraph limit here: these documents are meant to reach mammoth and cost it time.
// (Running out of a reading process's memory is shown through the upload API: test/http/hostile-documents.test.ts.)
const limits = { ...DEFAULT_LOAD_LIMITS, maxParagraphs: 10_000_000 };
const sandboxes: LoaderSandbox[] = [];

function sandbox(options: { timeoutMs?: number } = {}): LoaderSandbox {
  const created = new LoaderSandbox({ limits, split, timeoutMs: options.timeoutMs ?? 60_000, maxHeapMb: 256, processes: 1 });
  sandboxes.push(created);
  return created;
}

afterAll(async () => {
  await Promise.all(sandboxes.map((s) => s.close()));
});

async function failure(work: Promise<unknown>): Promise<Error> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(err).toBeDefined();
  return err!;
}

const paragraphs = (count: number) => ({ bytes: manyParagraphsDocx(count), mediaType: '' });
const words = { bytes: fixture('docs/pandoc__lists.docx'), mediaType: '' };

describe('reading documents in child processes', () => {
  it('reads and splits exactly as the loaders and splitter do in process', async () => {
    const readers = sandbox();
    const loaded = await readers.load(words);
    expect(loaded).toEqual(await createLoaderRegistry().load(words));
    expect(await readers.split(loaded)).toEqual(await new TextSplitter(split).split(loaded));
  });

  it('stops a document that takes longer than allowed, and reads the next one in a fresh process', async () => {
    // A limit a small text clears many times over even on a busy machine, and a Word file of 60,000
    // paragraphs (about 5 s of mammoth on an idle one) does not.
    const readers = sandbox({ timeoutMs: 2_500 });
    // Starting a reading process (loading pdf.js, jsdom, mammoth) does not count against a document's time.
    // (Text past the size read in process: quick to read, but in a reading process.)
    const text = { bytes: Buffer.from('Warm words. '.repeat(30_000)), mediaType: 'text/plain' };
    expect((await readers.load(text)).pages[0]!.text).toBe(text.bytes.toString());
    const err = await failure(readers.load(paragraphs(60_000)));
    expect(err).toBeInstanceOf(DocumentLoadError);
    expect(err.message).toBe('The document took longer than 2.5 s to read; split it into smaller files');
    expect((await readers.load(text)).pages[0]!.text).toBe(text.bytes.toString());
    expect(readers.processesStarted).toBe(2);
  });

  it('reads and splits small plain text and Markdown without starting a process, exactly as a process would', async () => {
    const readers = sandbox();
    const guide = { bytes: Buffer.from('# Sleep\n\nKeep the same wake-up time.\n\n' + 'Wind down before bed. '.repeat(200)), mediaType: 'text/markdown', filename: 'guide.md' };
    const loaded = await readers.load(guide);
    expect(loaded).toEqual(await createLoaderRegistry().load(guide));
    const chunks = await readers.split(loaded);
    expect(chunks).toEqual(await new TextSplitter(split).split(loaded));
    expect(chunks.length).toBeGreaterThan(1);
    expect(readers.processesStarted).toBe(0);
    // Past the in-process size, or binary despite its name, a process reads it under its limits.
    const large = { bytes: Buffer.from('A long line of plain text. '.repeat(12_000)), mediaType: 'text/plain' };
    expect(await readers.load(large)).toEqual(await createLoaderRegistry().load(large));
    expect(readers.processesStarted).toBe(1);
    const binary = await failure(readers.load({ bytes: Buffer.from([0x00, 0x01, 0x02, 0x41]), mediaType: 'text/plain', filename: 'notes.txt' }));
    expect(binary.message).toMatch(/not readable text/);
  });

  it('reads subtitles past the in-process size in a process, each passage keeping its time, and a corrupt one fails by line', async () => {
    const readers = sandbox();
    const stamp = (s: number) => `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')},000`;
    const cues = Array.from({ length: 4000 }, (_, i) => `${i + 1}\n${stamp(i * 2)} --> ${stamp(i * 2 + 1)}\nCue ${i} of the long recorded workshop on sleep.\n`);
    const srt = { bytes: Buffer.from(cues.join('\n')), mediaType: 'application/x-subrip', filename: 'workshop.srt' };
    expect(srt.bytes.length).toBeGreaterThan(256 * 1024);
    const loaded = await readers.load(srt);
    expect(readers.processesStarted).toBe(1);
    expect(loaded).toEqual(await createLoaderRegistry().load(srt));
    // Three sentences (cues) a passage: the last passage is the last cue alone, said at 2:13:18.
    expect(loaded.pages.at(-1)!.location).toEqual({ kind: 'time', value: 7998 });
    const chunks = await readers.split(loaded);
    expect(chunks).toEqual(await new TextSplitter(split).split(loaded));
    expect(chunks.every((c) => c.location?.kind === 'time')).toBe(true);
    const corrupt = { ...srt, bytes: Buffer.concat([srt.bytes, Buffer.from('\n4001\nnot a time\nBroken.\n')]) };
    const err = await failure(readers.load(corrupt));
    expect(err).toBeInstanceOf(DocumentLoadError);
    expect(err.message).toBe('The SRT subtitles could not be read: line 16002: expected a timestamp like 00:01:02,500 --> 00:01:04,000');
  });
});
