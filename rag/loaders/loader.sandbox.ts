import { fork, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SplitOptions } from '../split.js';
import { DocumentLoadError, type ChunkDraft, type LoadedDocument, type LoadInput, type Splitter } from '../types.js';
import { assertTextWithin, type LoadLimits } from './load-limits.js';
import { detectMediaType, MARKDOWN, PLAIN_TEXT, SRT, VTT } from './media-type.js';
import { SubtitlesLoader } from './subtitles.loader.js';
import { TextLoader } from './text.loader.js';
import type { ReaderSettings, ReadReply, ReadRequest } from './loader.process.js';

export interface LoaderSandboxOptions {
  limits: LoadLimits;
  /** How `split` cuts documents into chunks. */
  split: SplitOptions;
  /** Wall-clock time one source may take; the process is stopped past it. */
  timeoutMs: number;
  /** Heap (old generation) of each reading process, in MB. */
  maxHeapMb: number;
  /** Processes reading at once; further sources wait for one. */
  processes: number;
  /** How long an idle process is kept for the next source (start-up costs loading pdf.js, jsdom, mammoth). */
  idleMs?: number;
}

/** The reading process failed for a reason of its own (it could not start, say): worth another try. */
export class ReaderProcessError extends Error {
  constructor(message: string) {
    super(`document reader: ${message}`);
    this.name = 'ReaderProcessError';
  }
}

// This file runs as .ts under tsx and vitest and as .js once built; the process's entry sits beside
// it with the same extension, and a .ts entry is run with tsx's loader.
const extension = path.extname(fileURLToPath(import.meta.url));
const entry = fileURLToPath(new URL(`./loader.process${extension}`, import.meta.url));

// Plain text, Markdown and subtitles up to this size are read and split in process: decoding and cutting a few
// hundred kilobytes of text is quick and bounded, and costs less than starting a reading process
// (seconds on a busy machine, for a creator watching their first upload).
const IN_PROCESS_TEXT_BYTES = 256 * 1024;

// Lowest scheduling priority for reading processes.
const READER_NICENESS = 19;
// A process that has not loaded its readers by then is broken (not the document).
const START_TIMEOUT_MS = 60_000;
// What V8 prints when a heap limit is reached; the process then aborts.
const OUT_OF_MEMORY = /heap out of memory|Reached heap limit/i;

/** A reading process and the tail of what it wrote to stderr (to tell running out of memory from other deaths). */
interface Reader {
  child: ChildProcess;
  stderr: () => string;
}

function spawn(settings: ReaderSettings, maxHeapMb: number): Reader {
  // A separate process, not a worker thread: a thread that reaches its heap limit can abort the
  // whole process (nodejs/node#47224), and a process's limit also covers what the heap does not.
  const child = fork(entry, [JSON.stringify(settings)], {
    execArgv: [`--max-old-space-size=${maxHeapMb}`, ...(extension === '.ts' ? ['--import', 'tsx'] : [])],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  // Reading yields the CPU to the process answering webhooks: on a small machine they share cores.
  if (child.pid !== undefined) {
    try {
      setPriority(child.pid, READER_NICENESS);
    } catch {
      // Not permitted here (some containers); the reader runs at normal priority.
    }
  }
  let tail = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-4_000);
  });
  return { child, stderr: () => tail };
}

/** Starts a reading process; resolves once it has loaded its readers and says it is ready. */
function startReader(settings: ReaderSettings, maxHeapMb: number): Promise<Reader> {
  const reader = spawn(settings, maxHeapMb);
  const { child } = reader;
  return new Promise<Reader>((resolve, reject) => {
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.off('message', onMessage).off('error', fail).off('exit', onExit);
      child.kill('SIGKILL');
      reject(new ReaderProcessError(`could not start: ${err.message}`));
    };
    const onMessage = (reply: ReadReply) => {
      if (reply.id !== 0) return;
      clearTimeout(timer);
      child.off('message', onMessage).off('error', fail).off('exit', onExit);
      resolve(reader);
    };
    const onExit = (code: number | null, signal: string | null) => fail(new Error(`exited (${signal ?? `code ${code}`}) ${reader.stderr().slice(-300)}`));
    const timer = setTimeout(() => fail(new Error(`not ready after ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    child.on('message', onMessage).on('error', fail).on('exit', onExit);
  });
}

/**
 * Reads documents (the file loaders: PDF, Word, HTML, text) and splits them into chunks in child
 * processes, away from the event loop that answers webhooks and outside its heap. Each source gets
 * a heap limit and a time limit on top of the loaders' own page, paragraph, text and unpacked-size
 * limits; past either one the process is stopped, replaced by a fresh one for the next source, and
 * the source fails with a DocumentLoadError saying why. Processes that finished normally are kept a
 * while for the next source. Small plain text, Markdown and subtitles need no process (IN_PROCESS_TEXT_BYTES).
 */
export class LoaderSandbox implements Splitter {
  private readonly idle: Array<{ reader: Reader; timer: NodeJS.Timeout }> = [];
  private readonly busy = new Set<Reader>();
  private readonly waiting: Array<() => void> = [];
  private running = 0;
  private nextId = 0;
  private closed = false;
  private started = 0;
  private splitter: Promise<Splitter> | undefined;

  constructor(private readonly options: LoaderSandboxOptions) {}

  /** Extracts text from `input` in a reading process; throws DocumentLoadError when it is unreadable or too large. */
  async load(input: LoadInput): Promise<LoadedDocument> {
    const type = detectMediaType(input.bytes, input.mediaType, input.filename);
    if ((type === PLAIN_TEXT || type === MARKDOWN || type === SRT || type === VTT) && input.bytes.length <= IN_PROCESS_TEXT_BYTES) {
      const loader = type === SRT || type === VTT ? new SubtitlesLoader() : new TextLoader();
      const loaded = await loader.load({ ...input, mediaType: type });
      assertTextWithin(loaded.pages.reduce((sum, p) => sum + p.text.length, 0), this.options.limits);
      return loaded;
    }
    return (await this.run((id) => ({ id, task: 'load', input: { ...input, bytes: new Uint8Array(input.bytes) } }))) as LoadedDocument;
  }

  /** Cuts a read document into chunks (seconds of work for the longest ones), under the same limits. */
  async split(document: LoadedDocument): Promise<ChunkDraft[]> {
    const chars = document.pages.reduce((sum, p) => sum + p.text.length, 0);
    if ((document.format === 'text' || document.format === 'markdown') && chars <= IN_PROCESS_TEXT_BYTES) {
      // Loaded on first use: the splitter's library is not needed by a process that never ingests.
      this.splitter ??= import('../split.js').then(({ TextSplitter }) => new TextSplitter(this.options.split));
      return (await this.splitter).split(document);
    }
    return (await this.run((id) => ({ id, task: 'split', document }))) as ChunkDraft[];
  }

  /** Reading processes started so far. */
  get processesStarted(): number {
    return this.started;
  }

  private async run(request: (id: number) => ReadRequest): Promise<LoadedDocument | ChunkDraft[]> {
    if (this.closed) throw new ReaderProcessError('closed');
    if (this.running >= this.options.processes) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running += 1;
    try {
      return await this.send(await this.takeReader(), request(++this.nextId));
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }

  /** Stops every reading process; sources being read fail. */
  async close(): Promise<void> {
    this.closed = true;
    const readers = [...this.idle.map((i) => (clearTimeout(i.timer), i.reader)), ...this.busy];
    this.idle.length = 0;
    this.busy.clear();
    await Promise.allSettled(readers.map((r) => stop(r)));
  }

  private async takeReader(): Promise<Reader> {
    const kept = this.idle.pop();
    if (kept) {
      clearTimeout(kept.timer);
      return kept.reader;
    }
    this.started += 1;
    return startReader({ limits: this.options.limits, split: this.options.split }, this.options.maxHeapMb);
  }

  private keep(reader: Reader): void {
    if (this.closed) return void stop(reader);
    // An idle reader does not hold the platform's process open.
    reader.child.unref();
    reader.child.channel?.unref();
    const timer = setTimeout(() => {
      const at = this.idle.findIndex((i) => i.reader === reader);
      if (at !== -1) this.idle.splice(at, 1);
      void stop(reader);
    }, this.options.idleMs ?? 60_000);
    timer.unref();
    this.idle.push({ reader, timer });
  }

  private send(reader: Reader, request: ReadRequest): Promise<LoadedDocument | ChunkDraft[]> {
    const { timeoutMs, maxHeapMb } = this.options;
    const { id } = request;
    const { child } = reader;
    this.busy.add(reader);
    child.ref();
    child.channel?.ref();
    return new Promise<LoadedDocument | ChunkDraft[]>((resolve, reject) => {
      const settle = (healthy: boolean, outcome: () => void) => {
        clearTimeout(timer);
        child.off('message', onMessage).off('error', onError).off('close', onClose);
        this.busy.delete(reader);
        // A process that hit a limit (or died) is never reused: its heap is spent or its state unknown.
        if (healthy) this.keep(reader);
        else void stop(reader);
        outcome();
      };
      const onMessage = (reply: ReadReply) => {
        if (reply.id !== id) return;
        if (reply.ok) settle(true, () => resolve(reply.result ?? []));
        else settle(true, () => reject(reply.unreadable ? new DocumentLoadError(reply.message) : new ReaderProcessError(reply.message)));
      };
      const onError = (err: Error) => settle(false, () => reject(new ReaderProcessError(err.message)));
      // 'close' comes once stderr is read to its end, so what V8 said before aborting is in the tail.
      const onClose = (code: number | null, signal: string | null) =>
        settle(false, () =>
          reject(
            OUT_OF_MEMORY.test(reader.stderr())
              ? new DocumentLoadError(`The document needs more memory than allowed (${maxHeapMb} MB) to be read; split it into smaller files`)
              : new ReaderProcessError(`stopped (${signal ?? `exit code ${code}`})`),
          ),
        );
      const timer = setTimeout(
        () => settle(false, () => reject(new DocumentLoadError(`The document took longer than ${Number((timeoutMs / 1000).toFixed(1))} s to read; split it into smaller files`))),
        timeoutMs,
      );
      child.on('message', onMessage).on('error', onError).on('close', onClose);
      child.send(request, (err) => {
        if (err) onError(err);
      });
    });
  }
}

/** Kills a reading process and resolves once it is gone. */
function stop(reader: Reader): Promise<void> {
  const { child } = reader;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
