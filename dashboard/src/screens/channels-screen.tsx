import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { useOutletContext } from 'react-router';
import { api } from '../api';
import type { Bot, WebLinks } from '../types';
import { ErrorMessage, Field, PageHeading } from '../ui';

/** Where users reach the bot: the public web chat and its embed snippet, and Telegram. */
export function ChannelsScreen() {
  const bot = useOutletContext<Bot>();
  return (
    <>
      <PageHeading title={`Publish · ${bot.name}`}>Publish</PageHeading>
      <p className="lead">Choose where your users talk to the bot. Every channel answers from the same knowledge base.</p>
      <WebChat bot={bot} />
      <Telegram bot={bot} />
    </>
  );
}

interface WebForm {
  title: string;
  welcome: string;
  accentColor: string;
  allowedOrigins: string;
}

function WebChat({ bot }: { bot: Bot }) {
  const queries = useQueryClient();
  const published = bot.channels.find((c) => c.channel === 'web') as (Record<string, unknown> & { title?: string | null; welcome?: string | null; accentColor?: string | null; allowedOrigins?: string[] }) | undefined;
  const [links, setLinks] = useState<WebLinks | null>(null);
  const { register, handleSubmit } = useForm<WebForm>({
    defaultValues: {
      title: published?.title ?? '',
      welcome: published?.welcome ?? '',
      accentColor: published?.accentColor ?? '#2456c7',
      allowedOrigins: (published?.allowedOrigins ?? []).join('\n'),
    },
  });
  const refresh = () => queries.invalidateQueries({ queryKey: ['bot', bot.id] });
  const publish = useMutation({
    mutationFn: (form: WebForm) =>
      api<WebLinks>(`/v1/bots/${bot.id}/channels/web`, {
        method: 'PUT',
        body: {
          ...(form.title.trim() ? { title: form.title.trim() } : {}),
          ...(form.welcome.trim() ? { welcome: form.welcome.trim() } : {}),
          accentColor: form.accentColor,
          allowedOrigins: form.allowedOrigins
            .split(/\s+/)
            .map((o) => o.trim().replace(/\/$/, ''))
            .filter(Boolean),
        },
      }),
    onSuccess: async (result) => {
      setLinks(result);
      await refresh();
    },
  });
  const unpublish = useMutation({
    mutationFn: () => api(`/v1/bots/${bot.id}/channels/web`, { method: 'DELETE' }),
    onSuccess: async () => {
      setLinks(null);
      await refresh();
    },
  });
  return (
    <section aria-labelledby="web-chat" className="panel">
      <h2 id="web-chat">Web chat</h2>
      <p>
        {published ? 'Published: anyone with the link can chat with the bot, no account needed.' : 'Not published yet. Publish to get a chat page and a snippet for your site.'}
      </p>
      <form onSubmit={handleSubmit((form) => publish.mutate(form))}>
        <Field label="Title" hint="Shown at the top of the chat; the bot’s name when empty.">
          {(props) => <input {...props} maxLength={80} {...register('title')} />}
        </Field>
        <Field label="Welcome message" hint="The first message a visitor sees.">
          {(props) => <input {...props} maxLength={500} {...register('welcome')} />}
        </Field>
        <Field label="Accent colour">{(props) => <input {...props} type="color" {...register('accentColor')} />}</Field>
        <Field label="Sites that may embed the chat" hint="One per line, like https://example.com. The chat page itself always works.">
          {(props) => <textarea {...props} rows={2} {...register('allowedOrigins')} />}
        </Field>
        <ErrorMessage error={publish.error ?? unpublish.error} />
        <div className="button-row">
          <button type="submit" className="button" disabled={publish.isPending}>
            {published ? 'Save and show the links' : 'Publish web chat'}
          </button>
          {published ? (
            <button type="button" className="button danger" disabled={unpublish.isPending} onClick={() => unpublish.mutate()}>
              Unpublish
            </button>
          ) : null}
        </div>
      </form>
      {links ? <PublishedLinks links={links} /> : null}
    </section>
  );
}

function PublishedLinks({ links }: { links: WebLinks }) {
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async (what: string, text: string) => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(`${what} copied.`);
    } catch {
      setCopied(`Copying is not allowed here; select the ${what.toLowerCase()} and copy it yourself.`);
    }
  };
  return (
    <div className="published" aria-labelledby="links-heading">
      <h3 id="links-heading">Your links</h3>
      <p>
        Chat page:{' '}
        <a href={links.chatUrl} target="_blank" rel="noreferrer">
          {links.chatUrl}
        </a>{' '}
        <button type="button" className="button secondary small" onClick={() => void copy('Chat link', links.chatUrl)}>
          Copy link
        </button>
      </p>
      <p id="snippet-label">Paste this into your site’s HTML to add the chat widget:</p>
      <pre className="snippet" aria-labelledby="snippet-label" tabIndex={0}>
        <code>{links.embedSnippet}</code>
      </pre>
      <button type="button" className="button secondary small" onClick={() => void copy('Embed snippet', links.embedSnippet)}>
        Copy embed snippet
      </button>
      <p role="status" className="muted">
        {copied}
      </p>
    </div>
  );
}

function Telegram({ bot }: { bot: Bot }) {
  const queries = useQueryClient();
  const connected = bot.channels.find((c) => c.channel === 'telegram') as { username?: string } | undefined;
  const { register, handleSubmit, reset, formState } = useForm<{ token: string }>();
  const refresh = () => queries.invalidateQueries({ queryKey: ['bot', bot.id] });
  const connect = useMutation({
    mutationFn: (token: string) => api<{ username: string }>(`/v1/bots/${bot.id}/channels/telegram`, { method: 'PUT', body: { token } }),
    onSuccess: async () => {
      reset({ token: '' });
      await refresh();
    },
  });
  const disconnect = useMutation({
    mutationFn: () => api(`/v1/bots/${bot.id}/channels/telegram`, { method: 'DELETE' }),
    onSuccess: refresh,
  });
  return (
    <section aria-labelledby="telegram" className="panel">
      <h2 id="telegram">Telegram</h2>
      {connected ? (
        <p role="status">
          Connected as <strong>@{connected.username ?? 'your bot'}</strong>. Messages to it are answered by this bot.
        </p>
      ) : (
        <p>Create a bot with @BotFather in Telegram, then paste the token it gives you.</p>
      )}
      <form onSubmit={handleSubmit(({ token }) => connect.mutate(token.trim()))} noValidate>
        <Field label={connected ? 'New bot token' : 'Bot token'} hint="Looks like 123456789:AA…; it is stored encrypted." error={formState.errors.token?.message}>
          {(props) => <input {...props} type="password" autoComplete="off" spellCheck={false} {...register('token', { required: 'Paste the token from @BotFather' })} />}
        </Field>
        <ErrorMessage error={connect.error ?? disconnect.error} />
        <div className="button-row">
          <button type="submit" className="button" disabled={connect.isPending}>
            {connect.isPending ? 'Connecting…' : connected ? 'Replace token' : 'Connect Telegram'}
          </button>
          {connected ? (
            <button type="button" className="button danger" disabled={disconnect.isPending} onClick={() => disconnect.mutate()}>
              Disconnect
            </button>
          ) : null}
        </div>
      </form>
    </section>
  );
}
