import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type DragEvent } from 'react';
import { useForm } from 'react-hook-form';
import { useOutletContext } from 'react-router';
import { api, messageOf } from '../api';
import type { Bot, KnowledgeDocument, SearchResult } from '../types';
import { ConfirmButton, EmptyState, ErrorMessage, ListStates, Loading, PageHeading, RecordTable, RowActions } from '../ui';
import { FaqSection } from './faq-section';
import { useBotEvents } from './live-events';
import { WebsitesSection } from './websites-section';

const ACCEPTED =
  '.pdf,.docx,.pptx,.epub,.zip,.md,.markdown,.txt,.html,.htm,.srt,.vtt,.csv,.tsv,.xlsx,application/pdf,text/plain,text/markdown,text/html,application/x-subrip,text/vtt,text/csv,' +
  'application/vnd.openxmlformats-officedocument.presentationml.presentation,application/epub+zip,application/zip,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

// What changes the documents list: ingestion progress and re-embedding.
const KNOWLEDGE_EVENTS = ['document', 'reembed'] as const;
const noId = () => undefined;
const statusWords: Record<KnowledgeDocument['status'], string> = { queued: 'Waiting', processing: 'Reading', ready: 'Ready', failed: 'Failed' };

interface Upload {
  key: string;
  name: string;
  state: 'uploading' | 'done' | 'failed';
  error?: string;
}

/** The bot's knowledge base: upload files, follow their ingestion, re-ingest or delete them, and try retrieval. */
export function KnowledgeScreen() {
  const bot = useOutletContext<Bot>();
  const queries = useQueryClient();
  const documentsKey = ['documents', bot.id];
  const documents = useQuery({
    queryKey: documentsKey,
    queryFn: () => api<{ documents: KnowledgeDocument[] }>(`/v1/bots/${bot.id}/documents`),
    // Followed while anything is being read or re-embedded; still once there is nothing left to wait for.
    refetchInterval: (query) =>
      query.state.data?.documents.some((d) => d.status === 'queued' || d.status === 'processing' || d.reembedding) ? 1500 : false,
  });
  // Each document's progress (reading, re-embedding, a site's pages) arrives on the bot's live
  // events; the polling above stays as the safety net while anything is under way.
  useBotEvents(bot.id, KNOWLEDGE_EVENTS, noId, () => {
    void queries.invalidateQueries({ queryKey: documentsKey });
    void queries.invalidateQueries({ queryKey: ['sites', bot.id] });
  });
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  const upload = async (files: File[]) => {
    const started = files.map((file, i) => ({ key: `${Date.now()}-${i}-${file.name}`, name: file.name, state: 'uploading' as const }));
    setUploads((previous) => [...started, ...previous.filter((u) => u.state !== 'done')]);
    await Promise.all(
      files.map(async (file, i) => {
        const key = started[i]!.key;
        const form = new FormData();
        form.append('file', file, file.name);
        try {
          await api(`/v1/bots/${bot.id}/documents`, { method: 'POST', body: form });
          setUploads((previous) => previous.map((u) => (u.key === key ? { ...u, state: 'done' } : u)));
        } catch (err) {
          setUploads((previous) => previous.map((u) => (u.key === key ? { ...u, state: 'failed', error: messageOf(err) } : u)));
        }
        await queries.invalidateQueries({ queryKey: documentsKey });
      }),
    );
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    const files = Array.from(event.dataTransfer.files);
    if (files.length) void upload(files);
  };

  const reingest = useMutation({
    mutationFn: (id: string) => api(`/v1/bots/${bot.id}/documents/${id}/reingest`, { method: 'POST' }),
    onSettled: () => queries.invalidateQueries({ queryKey: documentsKey }),
  });
  const remove = useMutation({
    mutationFn: (id: string) => api(`/v1/bots/${bot.id}/documents/${id}`, { method: 'DELETE' }),
    onSettled: () => queries.invalidateQueries({ queryKey: documentsKey }),
  });

  const list = documents.data?.documents ?? [];
  return (
    <>
      <PageHeading title={`Knowledge · ${bot.name}`}>Knowledge base</PageHeading>
      <p className="lead">The bot answers from these documents. Add PDFs, Word files, slide decks, e-books, Markdown, text, subtitles, spreadsheets, Notion or Obsidian exports, or whole websites.</p>

      <section aria-labelledby="add-files">
        <h2 id="add-files">Add files</h2>
        <div
          className={`dropzone${dragging ? ' dragging' : ''}`}
          onDragOver={(event) => {
            event.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
        >
          <p>Drop files here, or</p>
          <button type="button" className="button" onClick={() => input.current?.click()}>
            Choose files
          </button>
          <input
            ref={input}
            className="visually-hidden"
            type="file"
            multiple
            accept={ACCEPTED}
            aria-label="Files to add to the knowledge base"
            tabIndex={-1}
            onChange={(event) => {
              const files = Array.from(event.target.files ?? []);
              event.target.value = '';
              if (files.length) void upload(files);
            }}
          />
          <p className="hint">Several at once is fine: PDF, DOCX, PPTX, EPUB, Markdown, text, HTML, SRT/VTT, CSV, XLSX or a ZIP export of Markdown/HTML files. A sheet with Question and Answer columns fills the FAQ below.</p>
        </div>
        {uploads.length ? (
          <ul className="uploads" aria-live="polite">
            {uploads.map((u) => (
              <li key={u.key} className={u.state === 'failed' ? 'error' : ''}>
                {u.name}: {u.state === 'uploading' ? 'uploading…' : u.state === 'done' ? 'uploaded' : `not added — ${u.error}`}
              </li>
            ))}
          </ul>
        ) : null}
      </section>

      <section aria-labelledby="documents">
        <h2 id="documents">Documents</h2>
        <ListStates
          what="the documents"
          pending={documents.isPending}
          error={documents.error ?? reingest.error ?? remove.error}
          empty={!!documents.data && list.length === 0}
          emptyTitle="No documents yet"
        >
          Add your course notes, guides or FAQs above; the bot answers from them once they are ready.
        </ListStates>
        {list.length ? (
          <RecordTable caption="Documents and their status" columns={['Title', 'Status', 'Passages']} actions className="documents">
            {list.map((doc) => (
              <tr key={doc.id}>
                <td>
                  <span className="doc-title">{doc.title}</span>
                  {doc.pages ? <span className="muted"> · {doc.pages} pages</span> : null}
                  {doc.error ? <p className="field-error">{doc.error}</p> : null}
                </td>
                <td>
                  <span className={`badge ${doc.status}`} data-status={doc.status}>
                    {statusWords[doc.status]}
                    {doc.status === 'processing' && doc.progress > 0 ? ` ${Math.round(doc.progress * 100)}%` : ''}
                  </span>
                  {doc.reembedding ? <Reembedding {...doc.reembedding} /> : null}
                </td>
                <td className="passages">{doc.status === 'ready' ? doc.chunks : '—'}</td>
                <RowActions>
                  <button
                    type="button"
                    className="button secondary small"
                    aria-label={`Re-ingest ${doc.title}`}
                    disabled={doc.status === 'queued' || doc.status === 'processing'}
                    onClick={() => reingest.mutate(doc.id)}
                  >
                    Re-ingest
                  </button>
                  <ConfirmButton name={`Delete ${doc.title}`} question={`Delete “${doc.title}”? The bot will no longer answer from it.`} onConfirm={() => remove.mutate(doc.id)}>
                    Delete
                  </ConfirmButton>
                </RowActions>
              </tr>
            ))}
          </RecordTable>
        ) : null}
      </section>

      <WebsitesSection botId={bot.id} />

      <FaqSection botId={bot.id} />

      <SearchBox botId={bot.id} />
    </>
  );
}

/** A document moving to a new embedding model: how far, while its old vectors still answer. */
function Reembedding({ model, progress }: { model: string; progress: number }) {
  const percent = Math.round(progress * 100);
  return (
    <p className="reembedding">
      <label>
        <span className="muted small">
          Re-embedding with {model}: {percent}%
        </span>
        <progress max={100} value={percent} />
      </label>
    </p>
  );
}

/** Tries retrieval: the passages the bot would read for a question. */
function SearchBox({ botId }: { botId: string }) {
  const [query, setQuery] = useState<string | null>(null);
  const { register, handleSubmit } = useForm<{ q: string }>();
  const results = useQuery({
    queryKey: ['search', botId, query],
    queryFn: () => api<{ results: SearchResult[] }>(`/v1/bots/${botId}/search?${new URLSearchParams({ q: query!, k: '5' })}`),
    enabled: query !== null,
  });
  return (
    <section aria-labelledby="search">
      <h2 id="search">Search the knowledge base</h2>
      <p className="hint">See which passages the bot would read to answer a question.</p>
      <form className="inline-form" role="search" onSubmit={handleSubmit(({ q }) => q.trim() && setQuery(q.trim()))}>
        <label htmlFor="kb-search" className="visually-hidden">
          Question or words to look for
        </label>
        <input id="kb-search" type="search" placeholder="e.g. How much sleep do adults need?" {...register('q')} />
        <button className="button" type="submit">
          Search
        </button>
      </form>
      {results.isFetching ? <Loading what="passages" /> : null}
      <ErrorMessage error={results.error} />
      {results.data && results.data.results.length === 0 ? (
        <EmptyState title="Nothing found">Try other words, or add documents that cover this question.</EmptyState>
      ) : null}
      {results.data && results.data.results.length ? (
        <ol className="results" aria-label="Passages found">
          {results.data.results.map((r, i) => (
            <Passage key={`${r.documentId}-${i}`} result={r} />
          ))}
        </ol>
      ) : null}
    </section>
  );
}

/** One passage found: its source, its first lines, and the whole of it on request. */
function Passage({ result }: { result: SearchResult }) {
  const [open, setOpen] = useState(false);
  // Line breaks of the source (a PDF's columns) mean nothing on screen.
  const text = result.text.replace(/\s+/g, ' ').trim();
  return (
    <li>
      <p className="result-source">
        {result.title}
        {result.location && result.location.kind !== 'page' ? `, ${result.location.label}` : result.page ? `, page ${result.page}` : ''}
      </p>
      <p className={`result-text${open ? '' : ' clamped'}`}>{text}</p>
      {text.length > 240 ? (
        <button type="button" className="button secondary small" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? 'Show less' : 'Show the whole passage'}
        </button>
      ) : null}
    </li>
  );
}
