import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SplitOptions } from '../split.js';
import { DocumentLoadError, type ChunkDraft, type LoadedDocument, type LoadInput, type Splitter } from '../types.js';
import type { LoadLimits } from './load-limits.js';
import type { ReaderThreadData, ReadReply, ReadRequest } from './loader.thread.js';

export interface LoaderSandboxOptions {
  limits: LoadLimits;
  /** How `split` cuts documents into chunks. */
  split: SplitOptions;
  /** Wall-clock time one source may take; the thread is stopped past it. */
  timeoutMs: number;
  /** Heap (old generation) of each reading thread, in MB. */
  maxHeapMb: number;
  /** Threads reading at once; further sources wait for one. */
  threads: number;
  /** How long an idle thread is kept for the next source (start-up costs loading pdf.js, jsdom, mammoth). */
  idleMs?: number;
}

/** The reading thread failed for a reason of its own (it could not start, say): worth another try. */
export class ReaderThreadError extends Error {
  constructor(message: string) {
    super(`document reader: ${message}`);
    this.name = 'ReaderThreadError';
  }
}

// This file runs as .ts under tsx and vitest and as .js once built; the thread's entry sits beside
// it with the same extension. Loader hooks registered in this thread do not reach new threads, so
// a .ts entry is imported after registering tsx's hooks inside the thread itself.
const extension = path.extname(fileURLToPath(import.meta.url));
const entry = new URL(`./loader.thread${extension}`, import.meta.url);

// A thread that has not loaded its readers by then is broken (not the document).
const START_TIMEOUT_MS = 60_000;

function spawn(data: ReaderThreadData, maxHeapMb: number): Worker {
  const options = { name: 'document-reader', workerData: data, resourceLimits: { maxOldGenerationSizeMb: maxHeapMb } };
  if (extension !== '.ts') return new Worker(entry, options);
  const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
    .then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true, execArgv: [] });
}

/** Starts a reading thread; resolves once it has loaded its readers and says it is ready. */
function startThread(data: ReaderThreadData, maxHeapMb: number): Promise<Worker> {
  const worker = spawn(data, maxHeapMb);
  return new Promise<Worker>((resolve, reject) => {
    const fail = (err: Error) => {
      clearTimeout(timer);
      worker.off('message', onMessage).off('error', fail).off('exit', onExit);
      void worker.terminate();
      reject(new ReaderThreadError(`could not start: ${err.message}`));
    };
    const onMessage = (reply: ReadReply) => {
      if (reply.id !== 0) return;
      clearTimeout(timer);
      worker.off('message', onMessage).off('error', fail).off('exit', onExit);
      resolve(worker);
    };
    const onExit = (code: number) => fail(new Error(`exit code ${code}`));
    const timer = setTimeout(() => fail(new Error(`not ready after ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    worker.on('message', onMessage).on('error', fail).on('exit', onExit);
  });
}

/**
 * Reads documents (the file loaders: PDF, Word, HTML, text) and splits them into chunks in worker
 * threads, away from the event loop that answers webhooks and outside the main heap. Each source gets a heap limit and a time
 * limit on top of the loaders' own page, paragraph, text and unpacked-size limits; past either one
 * the thread is stopped, replaced by a fresh one for the next source, and the source fails with a
 * DocumentLoadError saying why. Threads that finished normally are kept a while for the next source.
 */
export class LoaderSandbox implements Splitter {
  private readonly idle: Array<{ worker: Worker; timer: NodeJS.Timeout }> = [];
  private readonly busy = new Set<Worker>();
  private readonly waiting: Array<() => void> = [];
  private running = 0;
  private nextId = 0;
  private closed = false;

  constructor(private readonly options: LoaderSandboxOptions) {}

  /** Extracts text from `input` in a reading thread; throws DocumentLoadError when it is unreadable or too large. */
  async load(input: LoadInput): Promise<LoadedDocument> {
    // A copy the thread owns: the caller's bytes may share a pooled buffer.
    const bytes = new Uint8Array(input.bytes);
    return (await this.run((id) => ({ id, task: 'load', input: { ...input, bytes } }), [bytes.buffer])) as LoadedDocument;
  }

  /** Cuts a read document into chunks (seconds of work for the longest ones), under the same limits. */
  async split(document: LoadedDocument): Promise<ChunkDraft[]> {
    return (await this.run((id) => ({ id, task: 'split', document }), [])) as ChunkDraft[];
  }

  private async run(request: (id: number) => ReadRequest, transfer: ArrayBuffer[]): Promise<LoadedDocument | ChunkDraft[]> {
    if (this.closed) throw new ReaderThreadError('closed');
    if (this.running >= this.options.threads) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running += 1;
    try {
      return await this.send(await this.takeThread(), request(++this.nextId), transfer);
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }

  /** Stops every thread; sources being read fail. */
  async close(): Promise<void> {
    this.closed = true;
    const workers = [...this.idle.map((i) => (clearTimeout(i.timer), i.worker)), ...this.busy];
    this.idle.length = 0;
    this.busy.clear();
    await Promise.allSettled(workers.map((w) => w.terminate()));
  }

  private async takeThread(): Promise<Worker> {
    const kept = this.idle.pop();
    if (kept) {
      clearTimeout(kept.timer);
      return kept.worker;
    }
    return startThread({ limits: this.options.limits, split: this.options.split }, this.options.maxHeapMb);
  }

  private keep(worker: Worker): void {
    if (this.closed) return void worker.terminate();
    worker.unref();
    const timer = setTimeout(() => {
      const at = this.idle.findIndex((i) => i.worker === worker);
      if (at !== -1) this.idle.splice(at, 1);
      void worker.terminate();
    }, this.options.idleMs ?? 60_000);
    timer.unref();
    this.idle.push({ worker, timer });
  }

  private send(worker: Worker, request: ReadRequest, transfer: ArrayBuffer[]): Promise<LoadedDocument | ChunkDraft[]> {
    const { timeoutMs, maxHeapMb } = this.options;
    const { id } = request;
    this.busy.add(worker);
    worker.ref();
    return new Promise<LoadedDocument | ChunkDraft[]>((resolve, reject) => {
      const settle = (healthy: boolean, outcome: () => void) => {
        clearTimeout(timer);
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        this.busy.delete(worker);
        // A thread that hit a limit (or died) is never reused: its heap is spent or its state unknown.
        if (healthy) this.keep(worker);
        else void worker.terminate();
        outcome();
      };
      const onMessage = (reply: ReadReply) => {
        if (reply.id !== id) return;
        if (reply.ok) settle(true, () => resolve(reply.result ?? []));
        else settle(true, () => reject(reply.unreadable ? new DocumentLoadError(reply.message) : new ReaderThreadError(reply.message)));
      };
      const onError = (err: Error & { code?: string }) =>
        settle(false, () =>
          reject(
            err.code === 'ERR_WORKER_OUT_OF_MEMORY'
              ? new DocumentLoadError(`The document needs more memory than allowed (${maxHeapMb} MB) to be read; split it into smaller files`)
              : new ReaderThreadError(err.message),
          ),
        );
      const onExit = (code: number) => settle(false, () => reject(new ReaderThreadError(`stopped with exit code ${code}`)));
      const timer = setTimeout(
        () => settle(false, () => reject(new DocumentLoadError(`The document took longer than ${Number((timeoutMs / 1000).toFixed(1))} s to read; split it into smaller files`))),
        timeoutMs,
      );
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      worker.postMessage(request, transfer);
    });
  }
}
