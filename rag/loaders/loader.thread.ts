/**
 * Entry of a document-reading thread (see loader.sandbox.ts): runs the file loaders and the
 * splitter on what the main thread sends, inside the thread's own heap limit, and answers with the
 * result or the reason it could not be read.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { TextSplitter, type SplitOptions } from '../split.js';
import { DocumentLoadError, type ChunkDraft, type LoadedDocument, type LoadInput } from '../types.js';
import { isStackOverflow, NESTED_TOO_DEEPLY, type LoadLimits } from './load-limits.js';
import { createLoaderRegistry } from './loader-registry.js';

/** What the main thread asks: read one source, or split a read document into chunks. */
export type ReadRequest = { id: number; task: 'load'; input: LoadInput } | { id: number; task: 'split'; document: LoadedDocument };

/** What the thread answers; `unreadable` marks a reason for the creator (DocumentLoadError). `id` 0: ready for work. */
export type ReadReply =
  | { id: number; ok: true; result: LoadedDocument | ChunkDraft[] | null }
  | { id: number; ok: false; unreadable: boolean; message: string };

/** What the thread is started with. */
export interface ReaderThreadData {
  limits: LoadLimits;
  split: SplitOptions;
}

const port = parentPort;
if (port) {
  const data = workerData as ReaderThreadData;
  const registry = createLoaderRegistry(data.limits);
  const splitter = new TextSplitter(data.split);
  port.on('message', (request: ReadRequest) => {
    const work: Promise<LoadedDocument | ChunkDraft[]> = request.task === 'load' ? registry.load(request.input) : splitter.split(request.document);
    void work.then(
      (result) => port.postMessage({ id: request.id, ok: true, result } satisfies ReadReply),
      (err: unknown) => {
        const reply: ReadReply =
          err instanceof DocumentLoadError
            ? { id: request.id, ok: false, unreadable: true, message: err.message }
            : isStackOverflow(err)
              ? { id: request.id, ok: false, unreadable: true, message: NESTED_TOO_DEEPLY }
              : { id: request.id, ok: false, unreadable: false, message: err instanceof Error ? err.message : String(err) };
        port.postMessage(reply);
      },
    );
  });
  // Loading pdf.js, jsdom and mammoth takes a moment; no document's time limit should pay for it.
  port.postMessage({ id: 0, ok: true, result: null } satisfies ReadReply);
}
