import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { api } from '../api';
import { CopyButton } from '../copy-button';
import type { Bot } from '../types';
import { ErrorMessage, Field, Loading } from '../ui';

interface WhatsAppForm {
  phoneNumberId: string;
  wabaId: string;
  accessToken: string;
  appSecret: string;
  verifyToken: string;
  templateName: string;
  templateLanguage: string;
}

interface WhatsAppConnection {
  phoneNumberId: string;
  wabaId: string;
  displayPhoneNumber: string;
  webhookUrl: string | null;
  template: { name: string; language: string } | null;
}

/** What the server says of a connected number (GET …/channels/whatsapp): no secrets, a hint of the verify token. */
interface WhatsAppConnectionView extends WhatsAppConnection {
  verifyTokenHint: string;
  status: 'connected' | 'needs_public_url';
}

/** A random verify token to paste into Meta's webhook settings: the creator need not invent one. */
function newVerifyToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const digits = { value: /^\d{5,32}$/, message: 'Only digits, as Meta shows it' };

/** WhatsApp Cloud API: the credentials form, the webhook URL and verify token to copy into the Meta app, and disconnecting. */
export function WhatsAppChannel({ bot }: { bot: Bot }) {
  const queries = useQueryClient();
  const connected = bot.channels.find((c) => c.channel === 'whatsapp') as
    | { phoneNumberId?: string; displayPhoneNumber?: string; template?: { name: string } | null }
    | undefined;
  // The server says the URL when PUBLIC_URL is set; before that, this page's own origin is the best guess.
  const [announcedUrl, setAnnouncedUrl] = useState<string | null>(null);
  const webhookUrl = announcedUrl ?? `${window.location.origin}/webhooks/whatsapp`;
  const [savedToken, setSavedToken] = useState<string | null>(null);
  const { register, handleSubmit, reset, watch, setValue, formState } = useForm<WhatsAppForm>({
    defaultValues: { phoneNumberId: '', wabaId: '', accessToken: '', appSecret: '', verifyToken: newVerifyToken(), templateName: '', templateLanguage: 'en_US' },
  });
  const verifyToken = watch('verifyToken');
  const connectionKey = ['whatsapp', bot.id];
  const connection = useQuery({
    queryKey: connectionKey,
    queryFn: () => api<WhatsAppConnectionView>(`/v1/bots/${bot.id}/channels/whatsapp`),
    enabled: !!connected,
  });
  const refresh = async () => {
    await queries.invalidateQueries({ queryKey: ['bot', bot.id] });
    await queries.invalidateQueries({ queryKey: connectionKey });
  };
  const connect = useMutation({
    mutationFn: (form: WhatsAppForm) =>
      api<WhatsAppConnection>(`/v1/bots/${bot.id}/channels/whatsapp`, {
        method: 'PUT',
        body: {
          phoneNumberId: form.phoneNumberId.trim(),
          wabaId: form.wabaId.trim(),
          accessToken: form.accessToken.trim(),
          appSecret: form.appSecret.trim(),
          verifyToken: form.verifyToken.trim(),
          ...(form.templateName.trim() ? { template: { name: form.templateName.trim(), language: form.templateLanguage.trim() || 'en_US' } } : {}),
        },
      }),
    onSuccess: async (connection, form) => {
      if (connection.webhookUrl) setAnnouncedUrl(connection.webhookUrl);
      setSavedToken(form.verifyToken.trim());
      // The secrets leave the page; the verify token stays, to be copied into the Meta app.
      reset({ ...form, accessToken: '', appSecret: '' });
      await refresh();
    },
  });
  const disconnect = useMutation({
    mutationFn: () => api(`/v1/bots/${bot.id}/channels/whatsapp`, { method: 'DELETE' }),
    onSuccess: async () => {
      setSavedToken(null);
      // The bot stops saying "connected" before the connection is forgotten, so nothing asks for it again.
      queries.setQueryData<Bot>(['bot', bot.id], (old) => old && { ...old, channels: old.channels.filter((c) => c.channel !== 'whatsapp') });
      queries.removeQueries({ queryKey: connectionKey });
      await queries.invalidateQueries({ queryKey: ['bot', bot.id] });
    },
  });
  const shownToken = savedToken ?? verifyToken;
  return (
    <section aria-labelledby="whatsapp" className="panel">
      <h2 id="whatsapp">WhatsApp</h2>
      {connected ? (
        <>
          <p role="status">
            Connected to <strong>{connection.data?.displayPhoneNumber || connected.displayPhoneNumber || connected.phoneNumberId}</strong>. Messages to this number are
            answered by this bot.
          </p>
          {connection.isPending ? <Loading what="the connection" /> : null}
          <ErrorMessage error={connection.error} />
          {connection.data ? <ConnectionDetails connection={connection.data} /> : null}
          <h3>Replace the credentials</h3>
        </>
      ) : (
        <p>
          In your Meta app (WhatsApp → API Setup) find the phone number ID and the WhatsApp Business Account ID, create a system-user access token, and copy the
          app secret. Then enter the webhook below in the app’s WhatsApp webhook settings and subscribe to <code>messages</code>.
        </p>
      )}
      <div className="copy-box">
        {/* Once connected, the callback URL is shown with the connection, as the server has it. */}
        {connection.data ? null : (
          <p>
            <span className="copy-label">Callback URL</span> <code className="copy-value">{webhookUrl}</code> <CopyButton text={webhookUrl} what="Callback URL" label="Copy callback URL" />
          </p>
        )}
        <p>
          <span className="copy-label">{savedToken ? 'Verify token (saved)' : connected ? 'New verify token (takes effect when you replace the credentials)' : 'Verify token'}</span> <code className="copy-value">{shownToken}</code>{' '}
          <CopyButton text={shownToken} what="Verify token" />
        </p>
        {announcedUrl || connection.data ? null : (
          <p className="hint">The callback URL is this page’s address; if the platform is reached from the internet at another address (its PUBLIC_URL), use that one.</p>
        )}
        <p className="hint">
          {savedToken
            ? 'Paste both into the Meta app now: the verify token is not shown again.'
            : connected
              ? 'The saved verify token is not shown again; the one above replaces it when you save new credentials.'
              : 'The verify token is filled in for you; change it below if you already chose one in the Meta app.'}
        </p>
      </div>
      <form onSubmit={handleSubmit((form) => connect.mutate(form))} noValidate>
        <div className="form-grid">
          <Field label="Phone number ID" error={formState.errors.phoneNumberId?.message}>
            {(props) => <input {...props} inputMode="numeric" autoComplete="off" {...register('phoneNumberId', { required: 'Enter the phone number ID', pattern: digits })} />}
          </Field>
          <Field label="WhatsApp Business Account ID" error={formState.errors.wabaId?.message}>
            {(props) => <input {...props} inputMode="numeric" autoComplete="off" {...register('wabaId', { required: 'Enter the WhatsApp Business Account ID', pattern: digits })} />}
          </Field>
          <Field label="Access token" hint="A system-user token with whatsapp_business_messaging; stored encrypted." error={formState.errors.accessToken?.message}>
            {(props) => (
              <input
                {...props}
                type="password"
                autoComplete="off"
                spellCheck={false}
                {...register('accessToken', { required: 'Paste the access token', minLength: { value: 20, message: 'An access token is at least 20 characters' } })}
              />
            )}
          </Field>
          <Field label="App secret" hint="Signs every webhook Meta sends; stored encrypted." error={formState.errors.appSecret?.message}>
            {(props) => (
              <input
                {...props}
                type="password"
                autoComplete="off"
                spellCheck={false}
                {...register('appSecret', { required: 'Paste the app secret', minLength: { value: 16, message: 'An app secret is at least 16 characters' } })}
              />
            )}
          </Field>
          <Field label="Verify token" hint="The same text you enter in the Meta app’s webhook settings." error={formState.errors.verifyToken?.message}>
            {(props) => (
              <div className="input-with-button">
                <input
                  {...props}
                  autoComplete="off"
                  spellCheck={false}
                  {...register('verifyToken', { required: 'Choose a verify token', minLength: { value: 8, message: 'Use at least 8 characters' } })}
                />
                <button type="button" className="button secondary small" onClick={() => setValue('verifyToken', newVerifyToken())}>
                  New token
                </button>
              </div>
            )}
          </Field>
        </div>
        <fieldset>
          <legend>Template for messages after 24 hours (optional)</legend>
          <p className="hint">WhatsApp lets a business write freely only within 24 hours of the user’s last message; later, only an approved template may be sent.</p>
          <div className="form-grid">
            <Field label="Template name">{(props) => <input {...props} autoComplete="off" {...register('templateName')} />}</Field>
            <Field label="Template language" hint="Such as en_US.">
              {(props) => <input {...props} autoComplete="off" {...register('templateLanguage')} />}
            </Field>
          </div>
        </fieldset>
        <ErrorMessage error={connect.error ?? disconnect.error} />
        <div className="button-row">
          <button type="submit" className="button" disabled={connect.isPending}>
            {connect.isPending ? 'Connecting…' : connected ? 'Replace credentials' : 'Connect WhatsApp'}
          </button>
          {connected ? (
            <button
              type="button"
              className="button danger"
              disabled={disconnect.isPending}
              onClick={() => {
                if (window.confirm('Disconnect WhatsApp? Messages to this number are no longer answered.')) disconnect.mutate();
              }}
            >
              Disconnect WhatsApp
            </button>
          ) : null}
        </div>
      </form>
    </section>
  );
}

/** The connected number as the server keeps it: what Meta must be told (callback URL, verify token) and whether it can reach us. */
function ConnectionDetails({ connection }: { connection: WhatsAppConnectionView }) {
  const tokenEnd = connection.verifyTokenHint.replace(/^•+/, '');
  return (
    <div className="copy-box" aria-label="Current WhatsApp connection" role="group">
      <dl className="facts">
        <dt>Number</dt>
        <dd>
          {connection.displayPhoneNumber || 'Not reported by Meta'} <span className="muted">(phone number ID {connection.phoneNumberId})</span>
        </dd>
        <dt>Business account ID</dt>
        <dd>{connection.wabaId}</dd>
        <dt>Status</dt>
        <dd>
          {connection.status === 'connected' ? (
            <span className="badge ready">Connected</span>
          ) : (
            <span className="badge failed">No public address</span>
          )}
        </dd>
        <dt>Callback URL</dt>
        <dd>
          {connection.webhookUrl ? (
            <>
              <code className="copy-value">{connection.webhookUrl}</code> <CopyButton text={connection.webhookUrl} what="Callback URL" label="Copy callback URL" />
            </>
          ) : (
            'None yet: set the platform’s PUBLIC_URL to the address the internet reaches it at, then enter that address followed by /webhooks/whatsapp in the Meta app.'
          )}
        </dd>
        <dt>Verify token</dt>
        <dd>{tokenEnd ? `Saved; it ends in ${tokenEnd}.` : 'Saved; it is too short to show its end.'} Compare it with the one in the Meta app.</dd>
        <dt>Template after 24 hours</dt>
        <dd>{connection.template ? `${connection.template.name} (${connection.template.language})` : 'None: after 24 hours without a message from the user, nothing can be sent.'}</dd>
      </dl>
    </div>
  );
}
