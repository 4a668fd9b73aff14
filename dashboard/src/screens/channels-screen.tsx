import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { useOutletContext } from 'react-router';
import { api, ApiError } from '../api';
import type { Bot, WebLinks } from '../types';
import { ErrorMessage, Field, Loading, PageHeading } from '../ui';
import { WhatsAppChannel } from './whatsapp-channel';

/** Where users reach the bot: the public web chat and its embed snippet, and Telegram. */
export function ChannelsScreen() {
  const bot = useOutletContext<Bot>();
  return (
    <>
      <PageHeading title={`Publish · ${bot.name}`}>Publish</PageHeading>
      <p className="lead">Choose where your users talk to the bot. Every channel answers from the same knowledge base.</p>
      <WebChat bot={bot} />
      <Telegram bot={bot} />
      <WhatsAppChannel bot={bot} />
    </>
  );
}

interface WebSettings extends WebLinks {
  title: string | null;
  welcome: string | null;
  accentColor: string | null;
  allowedOrigins: string[];
}

interface WebForm {
  title: string;
  welcome: string;
  accentColor: string;
  allowedOrigins: string;
}

/** The published web chat's settings and links, or null while unpublished. */
async function webSettings(botId: string): Promise<WebSettings | null> {
  try {
    return await api<WebSettings>(`/v1/bots/${botId}/channels/web`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

function WebChat({ bot }: { bot: Bot }) {
  const settings = useQuery({ queryKey: ['web', bot.id], queryFn: () => webSettings(bot.id) });
  return (
    <section aria-labelledby="web-chat" className="panel">
      <h2 id="web-chat">Web chat</h2>
      {settings.isPending ? <Loading what="the web chat" /> : null}
      <ErrorMessage error={settings.error} />
      {settings.isSuccess ? <WebChatForm bot={bot} published={settings.data} /> : null}
    </section>
  );
}

function WebChatForm({ bot, published }: { bot: Bot; published: WebSettings | null }) {
  const queries = useQueryClient();
  const { register, handleSubmit } = useForm<WebForm>({
    defaultValues: {
      title: published?.title ?? '',
      welcome: published?.welcome ?? '',
      accentColor: published?.accentColor ?? '#2456c7',
      allowedOrigins: (published?.allowedOrigins ?? []).join('\n'),
    },
  });
  const refresh = () => queries.invalidateQueries({ queryKey: ['web', bot.id] });
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
    onSuccess: refresh,
  });
  const unpublish = useMutation({
    mutationFn: () => api(`/v1/bots/${bot.id}/channels/web`, { method: 'DELETE' }),
    onSuccess: refresh,
  });
  return (
    <>
      <p role="status">
        {published ? 'Published: anyone with the link can chat with the bot, no account needed.' : 'Not published yet. Publish to get a chat page and a snippet for your site.'}
      </p>
      {published ? <PublishedLinks links={published} /> : null}
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
            {published ? 'Save changes' : 'Publish web chat'}
          </button>
          {published ? (
            <button type="button" className="button danger" disabled={unpublish.isPending} onClick={() => unpublish.mutate()}>
              Unpublish
            </button>
          ) : null}
        </div>
      </form>
    </>
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
    <section className="published" aria-labelledby="links-heading">
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
    </section>
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
