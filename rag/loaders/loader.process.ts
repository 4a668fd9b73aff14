/**
 * Entry of a document-reading process (see loader.sandbox.ts): runs the file loaders and the
 * splitter on what the platform sends, inside the process's own heap limit, and answers with the
 * result or the reason it could not be read.
 */
import { TextSplitter, type SplitOptions } from '../split.js';
import { DocumentLoadError, type ChunkDraft, type LoadedDocument, type LoadInput } from '../types.js';
import { isStackOverflow, NESTED_TOO_DEEPLY, type LoadLimits } from './load-limits.js';
import { createLoaderRegistry } from './loader-registry.js';

/** What the platform asks: read one source, or split a read document into chunks. */
export type ReadRequest = { id: number; task: 'load'; input: LoadInput } | { id: number; task: 'split'; document: LoadedDocument };

/** What the process answers; `unreadable` marks a reason for the creator (DocumentLoadError). `id` 0: ready for work. */
export type ReadReply =
  | { id: number; ok: true; result: LoadedDocument | ChunkDraft[] | null }
  | { id: number; ok: false; unreadable: boolean; message: string };

/** What the process is started with (JSON, its one argument). */
export interface ReaderSettings {
  limits: LoadLimits;
  split: SplitOptions;
}

const send = process.send?.bind(process);
const serialized = process.argv[2];
if (send && serialized) {
  const settings = JSON.parse(serialized) as ReaderSettings;
  const registry = createLoaderRegistry(settings.limits);
  const splitter = new TextSplitter(settings.split);
  // The platform went away (stopped, crashed, killed): nothing is left to read for.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (request: ReadRequest) => {
    const work: Promise<LoadedDocument | ChunkDraft[]> = request.task === 'load' ? registry.load(request.input) : splitter.split(request.document);
    void work.then(
      (result) => send({ id: request.id, ok: true, result } satisfies ReadReply),
      (err: unknown) => {
        const reply: ReadReply =
          err instanceof DocumentLoadError
            ? { id: request.id, ok: false, unreadable: true, message: err.message }
            : isStackOverflow(err)
              ? { id: request.id, ok: false, unreadable: true, message: NESTED_TOO_DEEPLY }
              : { id: request.id, ok: false, unreadable: false, message: err instanceof Error ? err.message : String(err) };
        send(reply);
      },
    );
  });
  // Loading pdf.js, jsdom and mammoth takes a moment; no document's time limit should pay for it.
  send({ id: 0, ok: true, result: null } satisfies ReadReply);
}
