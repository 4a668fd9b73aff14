import { useEffect, useId, useRef, type ReactNode } from 'react';
import { messageOf } from './api';

/** The screen's heading; sets the tab's title and takes focus, so a screen reader announces the new screen. */
export function PageHeading({ children, title }: { children: ReactNode; title: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Coaching dashboard`;
    ref.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

/** An error in words, announced when it appears. */
export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {messageOf(error)}
    </p>
  );
}

/** Under a form: what the form itself found wrong, and the API's refusal, each announced in words. */
export function FormProblems({ problem, error }: { problem: string; error: unknown }) {
  return (
    <>
      {problem ? (
        <p className="field-error" role="alert">
          {problem}
        </p>
      ) : null}
      <ErrorMessage error={error} />
    </>
  );
}

/** A short "loading" line for assistive technology and sighted users alike. */
export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

/** What an empty list means and what to do next. */
export function EmptyState({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      <p>{children}</p>
    </div>
  );
}

/** A list's loading line, its error in words, and what to do when it is empty: the same on every screen. */
export function ListStates({
  what,
  pending,
  error,
  empty,
  emptyTitle,
  children,
}: {
  what: string;
  pending: boolean;
  error: unknown;
  empty: boolean;
  emptyTitle: string;
  children: ReactNode;
}) {
  return (
    <>
      {pending ? <Loading what={what} /> : null}
      <ErrorMessage error={error} />
      {!pending && empty ? <EmptyState title={emptyTitle}>{children}</EmptyState> : null}
    </>
  );
}

/** A table of records that turns into stacked cards on a phone; `actions` adds a last column of buttons. */
export function RecordTable({ caption, columns, actions = false, className, children }: { caption: string; columns: string[]; actions?: boolean; className?: string; children: ReactNode }) {
  return (
    <div className="table-wrap">
      <table className={className ?? 'stack-on-phone'}>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th scope="col" key={column}>
                {column}
              </th>
            ))}
            {actions ? (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** The last cell of a RecordTable row: its buttons, side by side (the cell stays a table cell, so rows keep their lines). */
export function RowActions({ children }: { children: ReactNode }) {
  return (
    <td className="actions">
      <div className="row-actions">{children}</div>
    </td>
  );
}

/** A button that asks before it acts, the question saying what is lost; `name` is its accessible name. */
export function ConfirmButton({
  name,
  question,
  onConfirm,
  disabled = false,
  children,
}: {
  name: string;
  question: string;
  onConfirm: () => void;
  disabled?: boolean;
  children: ReactNode;
}) {
  return (
    <button
      type="button"
      className="button danger small"
      aria-label={name}
      disabled={disabled}
      onClick={() => {
        if (window.confirm(question)) onConfirm();
      }}
    >
      {children}
    </button>
  );
}

/** "Show older …" under a paged list, while there are more pages. */
export function LoadMore({
  pages,
  children,
}: {
  pages: { hasNextPage: boolean; isFetchingNextPage: boolean; fetchNextPage: () => Promise<unknown> };
  children: ReactNode;
}) {
  if (!pages.hasNextPage) return null;
  return (
    <p>
      <button type="button" className="button secondary" disabled={pages.isFetchingNextPage} onClick={() => void pages.fetchNextPage()}>
        {pages.isFetchingNextPage ? 'Loading…' : children}
      </button>
    </p>
  );
}

/** A labelled form control with its hint and its validation message tied to it. */
export function Field({
  label,
  hint,
  error,
  children,
}: {
  label: string;
  hint?: string;
  error?: string | undefined;
  children: (props: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: boolean }) => ReactNode;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : '', error ? errorId : ''].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, ...(describedBy ? { 'aria-describedby': describedBy } : {}), ...(error ? { 'aria-invalid': true } : {}) })}
      {hint ? (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p className="field-error" id={errorId}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** A date and time in the reader's own locale. */
export function When({ at }: { at: string }) {
  const date = new Date(at);
  return <time dateTime={at}>{date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}</time>;
}

/** "Sources: Guide (pages 3, 5); Video (at 04:31, at 07:10); Notes" — each document once, with the places cited from it. */
export function sourcesLine(
  sources: ReadonlyArray<{ documentId: string; title: string; page?: number | undefined; location?: { kind: string; label: string } | undefined }>,
): string {
  const byDocument = new Map<string, { title: string; pages: number[]; places: string[] }>();
  for (const source of sources) {
    const entry = byDocument.get(source.documentId) ?? { title: source.title, pages: [], places: [] };
    if (source.page !== undefined && !entry.pages.includes(source.page)) entry.pages.push(source.page);
    // Slides and times are shown by their label; pages keep the wording above.
    else if (source.location && source.location.kind !== 'page' && !entry.places.includes(source.location.label)) entry.places.push(source.location.label);
    byDocument.set(source.documentId, entry);
  }
  const parts = [...byDocument.values()].map(({ title, pages, places }) => {
    const sorted = pages.sort((a, b) => a - b);
    const where = [...(sorted.length ? [`${sorted.length > 1 ? 'pages' : 'page'} ${sorted.join(', ')}`] : []), ...places];
    return where.length ? `${title} (${where.join(', ')})` : title;
  });
  return `Sources: ${parts.join('; ')}`;
}

/** A panel opened from a list row (an editor, a detail list): its heading takes focus, which goes back to the opening button when it closes. */
export function DetailPanel({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const id = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    heading.current?.focus();
    return () => opener?.focus();
  }, []);
  return (
    <section className="detail-panel" aria-labelledby={id}>
      <div className="toolbar">
        <h3 id={id} ref={heading} tabIndex={-1}>
          {title}
        </h3>
        <button type="button" className="button secondary small" aria-label={`Close ${title}`} onClick={onClose}>
          Close
        </button>
      </div>
      {children}
    </section>
  );
}
