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
