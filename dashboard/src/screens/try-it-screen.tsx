import { useEffect, useRef, useState } from 'react';
import { useForm } from 'react-hook-form';
import { useOutletContext } from 'react-router';
import { apiEvents, messageOf } from '../api';
import type { Bot, Source } from '../types';
import { EmptyState, PageHeading, sourcesLine } from '../ui';

interface Turn {
  id: string;
  question: string;
  answer: string;
  sources: Source[];
  state: 'streaming' | 'done' | 'failed';
  error?: string;
}

function newSessionId(): string {
  return `dashboard-${crypto.randomUUID()}`;
}

/** Chat with the bot as a user would, through the same path as every channel, before publishing it. */
export function TryItScreen() {
  const bot = useOutletContext<Bot>();
  const [sessionId, setSessionId] = useState(newSessionId);
  const [turns, setTurns] = useState<Turn[]>([]);
  const busy = turns.some((t) => t.state === 'streaming');
  const abort = useRef<AbortController | null>(null);
  const { register, handleSubmit, reset, setFocus } = useForm<{ text: string }>();

  useEffect(() => () => abort.current?.abort(), []);

  const update = (id: string, change: Partial<Turn>) => setTurns((all) => all.map((t) => (t.id === id ? { ...t, ...change } : t)));

  const ask = handleSubmit(async ({ text }) => {
    const question = text.trim();
    if (!question || busy) return;
    const id = crypto.randomUUID();
    setTurns((all) => [...all, { id, question, answer: '', sources: [], state: 'streaming' }]);
    reset({ text: '' });
    abort.current = new AbortController();
    let draft = '';
    try {
      for await (const { event, data } of apiEvents(`/v1/bots/${bot.id}/chat`, { sessionId, text: question }, abort.current.signal)) {
        if (event === 'token') {
          const piece = data as { text: string; offset: number };
          draft = draft.slice(0, piece.offset) + piece.text;
          update(id, { answer: draft });
        } else if (event === 'done') {
          const done = data as { reply: string | null; sources: Source[] };
          update(id, { answer: done.reply ?? '(no reply needed)', sources: done.sources, state: 'done' });
        } else if (event === 'error') {
          update(id, { state: 'failed', error: (data as { message: string }).message });
        }
      }
      setTurns((all) => all.map((t) => (t.id === id && t.state === 'streaming' ? { ...t, state: 'failed', error: 'The answer stopped before it was complete; please ask again.' } : t)));
    } catch (err) {
      if (!abort.current.signal.aborted) update(id, { state: 'failed', error: messageOf(err) });
    } finally {
      setFocus('text');
    }
  });

  return (
    <>
      <PageHeading title={`Try it · ${bot.name}`}>Try it</PageHeading>
      <div className="toolbar">
        <p className="lead">Ask what your users would ask. Answers come from the knowledge base, with their sources, as on every channel.</p>
        <button
          type="button"
          className="button secondary small"
          disabled={busy || turns.length === 0}
          onClick={() => {
            setTurns([]);
            setSessionId(newSessionId());
          }}
        >
          New conversation
        </button>
      </div>
      <div className="chat" role="log" aria-label="Conversation with the bot" aria-live="polite">
        {turns.length === 0 ? <EmptyState title="No messages yet">Type a question below, e.g. one your course answers.</EmptyState> : null}
        {turns.map((turn) => (
          <div key={turn.id} className="turn">
            <p className="bubble user">
              <span className="visually-hidden">You: </span>
              {turn.question}
            </p>
            <div className={`bubble bot${turn.state === 'failed' ? ' failed' : ''}`} aria-busy={turn.state === 'streaming'}>
              <span className="visually-hidden">{bot.name}: </span>
              {turn.state === 'failed' ? (
                <p role="alert">{turn.error}</p>
              ) : (
                <p className="answer">{turn.answer || (turn.state === 'streaming' ? 'Thinking…' : '')}</p>
              )}
              {turn.sources.length ? (
                <p className="sources">
                  {sourcesLine(turn.sources)}
                </p>
              ) : null}
            </div>
          </div>
        ))}
      </div>
      <form className="chat-form" onSubmit={ask}>
        <label htmlFor="try-text" className="visually-hidden">
          Your message
        </label>
        <input id="try-text" autoComplete="off" placeholder="Ask a question…" maxLength={4000} {...register('text')} />
        <button className="button" type="submit" disabled={busy}>
          {busy ? 'Answering…' : 'Send'}
        </button>
      </form>
    </>
  );
}
