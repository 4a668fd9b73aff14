import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { api, ApiError } from '../api';
import { ErrorMessage } from '../ui';

/** Who has a conversation, as the transcript pane shows it. */
export interface TakeoverView {
  takenOver: boolean;
  wantsHuman: boolean;
}

interface Props {
  botId: string;
  conversationId: string;
  view: TakeoverView;
}

// The composer's textarea: a takeover made here moves the focus to it, where the creator writes next.
const COMPOSER_ID = 'takeover-composer';
// Set by a takeover made here. The composer appears once the refetched transcript says the
// conversation is taken over, which may be after the takeover's own request settles: it takes the
// focus when it appears, or at once if it is there already.
let focusComposerWhenShown = false;

/** A fresh id for one message: a double click or a retry sends the same id, and the server sends it once. */
function newClientMessageId(): string {
  // getRandomValues, unlike randomUUID, works on a plain-HTTP address too (a self-hosted server on a LAN).
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** Refetches what a takeover change shows: the transcript and the lists (their badges). */
function useRefetchConversation(botId: string, conversationId: string) {
  const queries = useQueryClient();
  return () =>
    Promise.all([
      queries.invalidateQueries({ queryKey: ['transcript', botId, conversationId] }),
      queries.invalidateQueries({ queryKey: ['conversations', botId] }),
    ]);
}

/** Says who answers the conversation, with the button that changes it. */
export function TakeoverBar({ botId, conversationId, view }: Props) {
  const refetch = useRefetchConversation(botId, conversationId);
  const change = useMutation({
    mutationFn: (action: 'takeover' | 'release') => api(`/v1/bots/${botId}/conversations/${conversationId}/${action}`, { method: 'POST' }),
    onSuccess: async (_state, action) => {
      if (action === 'takeover') focusComposerWhenShown = true;
      await refetch();
      const composer = document.getElementById(COMPOSER_ID);
      if (action === 'takeover' && composer) {
        focusComposerWhenShown = false;
        composer.focus();
      }
    },
  });
  return (
    <div className={`takeover-bar${view.takenOver ? ' taken' : ''}`}>
      <p className="takeover-state" role="status">
        {view.takenOver
          ? 'You have this conversation: the bot stays silent until you hand it back.'
          : view.wantsHuman
            ? 'This person asked to talk to a person. Take over to answer them yourself.'
            : 'The bot answers this conversation.'}
      </p>
      {view.takenOver ? (
        <button type="button" className="button secondary" disabled={change.isPending} onClick={() => change.mutate('release')}>
          Hand back to the bot
        </button>
      ) : (
        <button type="button" className="button" disabled={change.isPending} onClick={() => change.mutate('takeover')}>
          Take over
        </button>
      )}
      <ErrorMessage error={change.error} />
    </div>
  );
}

/** The creator's own message to the contact, shown while they have the conversation; Ctrl/Cmd+Enter sends. */
export function Composer({ botId, conversationId, view }: Props) {
  const hintId = useId();
  const [text, setText] = useState('');
  // One id per message being written: kept until the server has it, so sending twice sends once.
  const clientMessageId = useRef(newClientMessageId());
  const refetch = useRefetchConversation(botId, conversationId);
  const textarea = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (view.takenOver && focusComposerWhenShown) {
      focusComposerWhenShown = false;
      textarea.current?.focus();
    }
  }, [view.takenOver]);
  const send = useMutation({
    mutationFn: (message: { text: string; clientMessageId: string }) =>
      api(`/v1/bots/${botId}/conversations/${conversationId}/messages`, { method: 'POST', body: message }),
    onSuccess: async (_answer, message) => {
      // A new message from here on; what was typed meanwhile stays.
      if (clientMessageId.current === message.clientMessageId) clientMessageId.current = newClientMessageId();
      setText((current) => (current.trim() === message.text ? '' : current));
      await refetch();
    },
    onError: (err) => {
      // Refused, so nothing was sent: the next attempt is a new message. (After a network failure the
      // same id is kept: the server may have sent it, and a retry must not send it twice.)
      if (err instanceof ApiError && err.status < 500) clientMessageId.current = newClientMessageId();
    },
  });
  if (!view.takenOver) return null;
  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    const message = text.trim();
    if (!message || send.isPending) return;
    send.mutate({ text: message, clientMessageId: clientMessageId.current });
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) submit();
  };
  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor={COMPOSER_ID}>
        Your message
      </label>
      <textarea
        id={COMPOSER_ID}
        ref={textarea}
        rows={3}
        maxLength={4000}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
        aria-describedby={hintId}
      />
      <div className="composer-actions">
        <p className="hint" id={hintId}>
          Sent to them as it is, through their channel. Ctrl+Enter (⌘+Enter on a Mac) sends.
        </p>
        <button type="submit" className="button" disabled={send.isPending || !text.trim()}>
          {send.isPending ? 'Sending…' : 'Send'}
        </button>
      </div>
      <ErrorMessage error={send.error} />
    </form>
  );
}
