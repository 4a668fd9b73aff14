import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { useNavigate, useOutletContext } from 'react-router';
import { api } from '../api';
import type { Bot } from '../types';
import { ErrorMessage, Field, Loading, PageHeading } from '../ui';

interface SettingsForm {
  name: string;
  persona: string;
  language: string;
  model: string;
  embeddingModel: string;
  temperature: string;
  contextSize: string;
  maxAnswerTokens: string;
  citeSources: boolean;
  mergeWindowMs: string;
  welcomeMessage: string;
  unknownAnswer: string;
  quietHoursStart: string;
  quietHoursEnd: string;
  humanHandoffPhrases: string;
}

const time = { value: /^([01]\d|2[0-3]):[0-5]\d$/, message: 'A 24-hour time such as 21:00' };

/** An optional text setting: empty means "the platform's default" (null resets the stored key). */
const textOrNull = (value: string) => (value.trim() ? value.trim() : null);
const numberOrNull = (value: string) => (value.trim() ? Number(value) : null);

function formOf(bot: Bot): SettingsForm {
  const s = bot.settings;
  return {
    name: bot.name,
    persona: bot.persona,
    language: bot.language,
    model: s.model ?? '',
    embeddingModel: s.embeddingModel ?? '',
    temperature: String(s.temperature),
    contextSize: s.contextSize?.toString() ?? '',
    maxAnswerTokens: s.maxAnswerTokens?.toString() ?? '',
    citeSources: s.citeSources,
    mergeWindowMs: String(s.mergeWindowMs),
    welcomeMessage: s.welcomeMessage ?? '',
    unknownAnswer: s.unknownAnswer ?? '',
    quietHoursStart: s.quietHoursStart ?? '',
    quietHoursEnd: s.quietHoursEnd ?? '',
    humanHandoffPhrases: (s.humanHandoffPhrases ?? []).join('\n'),
  };
}

/** The bot's persona, language, model and conversation settings, its end users' paid access, and deleting it. */
export function SettingsScreen() {
  const bot = useOutletContext<Bot>();
  return (
    <>
      <PageHeading title={`Settings · ${bot.name}`}>Settings</PageHeading>
      <BotSettingsForm bot={bot} />
      <Premium bot={bot} />
      <DeleteBot bot={bot} />
    </>
  );
}

function BotSettingsForm({ bot }: { bot: Bot }) {
  const queries = useQueryClient();
  const { register, handleSubmit, formState, reset } = useForm<SettingsForm>({ defaultValues: formOf(bot) });
  const errors = formState.errors;
  const save = useMutation({
    mutationFn: (form: SettingsForm) =>
      api<Bot>(`/v1/bots/${bot.id}`, {
        method: 'PATCH',
        body: {
          name: form.name.trim(),
          persona: form.persona,
          language: form.language.trim(),
          settings: {
            model: textOrNull(form.model),
            embeddingModel: textOrNull(form.embeddingModel),
            temperature: numberOrNull(form.temperature),
            contextSize: numberOrNull(form.contextSize),
            maxAnswerTokens: numberOrNull(form.maxAnswerTokens),
            citeSources: form.citeSources,
            mergeWindowMs: numberOrNull(form.mergeWindowMs),
            welcomeMessage: textOrNull(form.welcomeMessage),
            unknownAnswer: textOrNull(form.unknownAnswer),
            quietHoursStart: textOrNull(form.quietHoursStart),
            quietHoursEnd: textOrNull(form.quietHoursEnd),
            humanHandoffPhrases: form.humanHandoffPhrases
              .split('\n')
              .map((p) => p.trim())
              .filter(Boolean),
          },
        },
      }),
    onSuccess: async (saved) => {
      reset(formOf(saved));
      queries.setQueryData(['bot', bot.id], saved);
      await queries.invalidateQueries({ queryKey: ['bots'] });
    },
  });
  return (
    <form onSubmit={handleSubmit((form) => save.mutate(form))} noValidate>
      <section aria-labelledby="persona-heading" className="panel">
        <h2 id="persona-heading">Persona and language</h2>
        <Field label="Name" error={errors.name?.message}>
          {(props) => <input {...props} {...register('name', { required: 'Give the bot a name', maxLength: { value: 200, message: 'At most 200 characters' } })} />}
        </Field>
        <Field label="Persona" hint="How the bot presents itself and coaches.">
          {(props) => <textarea {...props} rows={5} {...register('persona', { maxLength: { value: 20000, message: 'At most 20,000 characters' } })} />}
        </Field>
        <Field label="Language" hint="A language code such as en, de or pt-BR." error={errors.language?.message}>
          {(props) => (
            <input
              {...props}
              autoComplete="off"
              {...register('language', { required: 'Choose a language', pattern: { value: /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, message: 'Use a language code such as en, de or pt-BR' } })}
            />
          )}
        </Field>
      </section>
      <section aria-labelledby="model-heading" className="panel">
        <h2 id="model-heading">Model</h2>
        <p className="hint">Leave a field empty to use the platform’s default.</p>
        <div className="form-grid">
          <Field label="Model name" hint="An Ollama model, e.g. llama3.2:3b.">
            {(props) => <input {...props} autoComplete="off" spellCheck={false} {...register('model', { maxLength: { value: 200, message: 'At most 200 characters' } })} />}
          </Field>
          <Field
            label="Embedding model"
            hint="The Ollama model that turns your documents into vectors for search, e.g. mxbai-embed-large. Changing it re-embeds every document in the background (progress shows under Knowledge); until a document is done, it is still found by its old vectors."
            error={errors.embeddingModel?.message}
          >
            {(props) => <input {...props} autoComplete="off" spellCheck={false} {...register('embeddingModel', { maxLength: { value: 200, message: 'At most 200 characters' } })} />}
          </Field>
          <Field label="Temperature" hint="0 is steady, 2 is inventive; 0.3 by default." error={errors.temperature?.message}>
            {(props) => (
              <input
                {...props}
                type="number"
                step="0.1"
                min={0}
                max={2}
                {...register('temperature', { min: { value: 0, message: 'Between 0 and 2' }, max: { value: 2, message: 'Between 0 and 2' } })}
              />
            )}
          </Field>
          <Field label="Context size (tokens)" hint="256 or more, up to the server’s limit." error={errors.contextSize?.message}>
            {(props) => <input {...props} type="number" step={1} min={256} {...register('contextSize', { min: { value: 256, message: 'At least 256' } })} />}
          </Field>
          <Field label="Longest answer (tokens)" hint="16 or more, up to the server’s limit." error={errors.maxAnswerTokens?.message}>
            {(props) => <input {...props} type="number" step={1} min={16} {...register('maxAnswerTokens', { min: { value: 16, message: 'At least 16' } })} />}
          </Field>
          <Field label="Merge messages within (ms)" hint="Messages this close together become one turn; 1500 by default." error={errors.mergeWindowMs?.message}>
            {(props) => (
              <input
                {...props}
                type="number"
                step={100}
                min={0}
                max={60000}
                {...register('mergeWindowMs', { min: { value: 0, message: 'Between 0 and 60000' }, max: { value: 60000, message: 'Between 0 and 60000' } })}
              />
            )}
          </Field>
        </div>
        <div className="checkbox">
          <input id="cite-sources" type="checkbox" {...register('citeSources')} />
          <label htmlFor="cite-sources">Name the documents an answer draws on</label>
        </div>
      </section>
      <section aria-labelledby="conversation-heading" className="panel">
        <h2 id="conversation-heading">Conversation</h2>
        <Field label="Welcome message" hint="Sent when someone starts a conversation.">
          {(props) => <textarea {...props} rows={2} {...register('welcomeMessage', { maxLength: { value: 4000, message: 'At most 4,000 characters' } })} />}
        </Field>
        <Field label="Unknown answer" hint="Said when your material holds no answer.">
          {(props) => <textarea {...props} rows={2} {...register('unknownAnswer', { maxLength: { value: 4000, message: 'At most 4,000 characters' } })} />}
        </Field>
        <Field label="Human handoff phrases" hint="One per line, e.g. “talk to a human”. Besides /human, a user who writes one is handed to you.">
          {(props) => <textarea {...props} rows={3} {...register('humanHandoffPhrases')} />}
        </Field>
        <fieldset>
          <legend>Quiet hours</legend>
          <p className="hint">In each user’s own time, program steps and reminders wait until quiet hours end (21:00 to 08:00 by default).</p>
          <div className="form-grid">
            <Field label="Quiet from" error={errors.quietHoursStart?.message}>
              {(props) => <input {...props} type="time" {...register('quietHoursStart', { pattern: time })} />}
            </Field>
            <Field label="Quiet until" error={errors.quietHoursEnd?.message}>
              {(props) => <input {...props} type="time" {...register('quietHoursEnd', { pattern: time })} />}
            </Field>
          </div>
        </fieldset>
      </section>
      <ErrorMessage error={save.error} />
      <p role="status" className="muted">
        {save.isSuccess && !formState.isDirty ? 'Settings saved.' : ''}
      </p>
      <div className="button-row">
        <button type="submit" className="button" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : 'Save settings'}
        </button>
      </div>
    </form>
  );
}

interface PremiumSettings {
  freeRepliesPerMonth: number;
  stripePriceId: string;
  mode: 'payment' | 'subscription';
}

interface PremiumForm {
  freeRepliesPerMonth: string;
  stripePriceId: string;
  mode: 'payment' | 'subscription';
}

/** End-user premium: free replies a month, then a Stripe price unlocks the bot. */
function Premium({ bot }: { bot: Bot }) {
  const premium = useQuery({ queryKey: ['premium', bot.id], queryFn: () => api<{ premium: PremiumSettings | null }>(`/v1/bots/${bot.id}/premium`) });
  return (
    <section aria-labelledby="premium-heading" className="panel">
      <h2 id="premium-heading">Paid access for your users</h2>
      {premium.isPending ? <Loading what="paid access" /> : null}
      <ErrorMessage error={premium.error} />
      {premium.isSuccess ? <PremiumForm bot={bot} current={premium.data.premium} /> : null}
    </section>
  );
}

function PremiumForm({ bot, current }: { bot: Bot; current: PremiumSettings | null }) {
  const queries = useQueryClient();
  const { register, handleSubmit, formState } = useForm<PremiumForm>({
    defaultValues: { freeRepliesPerMonth: String(current?.freeRepliesPerMonth ?? 20), stripePriceId: current?.stripePriceId ?? '', mode: current?.mode ?? 'subscription' },
  });
  const refresh = () => queries.invalidateQueries({ queryKey: ['premium', bot.id] });
  const save = useMutation({
    mutationFn: (form: PremiumForm) =>
      api(`/v1/bots/${bot.id}/premium`, {
        method: 'PUT',
        body: { freeRepliesPerMonth: Number(form.freeRepliesPerMonth), stripePriceId: form.stripePriceId.trim(), mode: form.mode },
      }),
    onSuccess: refresh,
  });
  const remove = useMutation({ mutationFn: () => api(`/v1/bots/${bot.id}/premium`, { method: 'DELETE' }), onSuccess: refresh });
  return (
    <>
      <p role="status">
        {current
          ? `On: each user gets ${current.freeRepliesPerMonth} free replies a month, then pays to continue.`
          : 'Off: every user is answered within your plan. Turn it on to charge your users after some free replies.'}
      </p>
      <form onSubmit={handleSubmit((form) => save.mutate(form))} noValidate>
        <div className="form-grid">
          <Field label="Free replies a month" error={formState.errors.freeRepliesPerMonth?.message}>
            {(props) => (
              <input
                {...props}
                type="number"
                min={0}
                step={1}
                {...register('freeRepliesPerMonth', { required: 'Enter a number of replies', min: { value: 0, message: 'Zero or more' } })}
              />
            )}
          </Field>
          <Field label="Stripe price ID" hint="From your Stripe dashboard, like price_1Q…" error={formState.errors.stripePriceId?.message}>
            {(props) => (
              <input
                {...props}
                autoComplete="off"
                spellCheck={false}
                {...register('stripePriceId', { required: 'Enter the Stripe price ID', pattern: { value: /^price_[A-Za-z0-9_]+$/, message: 'A Stripe price ID starts with price_' } })}
              />
            )}
          </Field>
          <Field label="Users pay">
            {(props) => (
              <select {...props} {...register('mode')}>
                <option value="subscription">A subscription (access while subscribed)</option>
                <option value="payment">Once (access for good)</option>
              </select>
            )}
          </Field>
        </div>
        <ErrorMessage error={save.error ?? remove.error} />
        <div className="button-row">
          <button type="submit" className="button" disabled={save.isPending}>
            {current ? 'Save paid access' : 'Turn on paid access'}
          </button>
          {current ? (
            <button type="button" className="button danger" disabled={remove.isPending} onClick={() => remove.mutate()}>
              Turn off paid access
            </button>
          ) : null}
        </div>
      </form>
    </>
  );
}

/** Deleting asks for the bot's name first, so a stray click cannot lose a knowledge base. */
function DeleteBot({ bot }: { bot: Bot }) {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [typed, setTyped] = useState('');
  const remove = useMutation({
    mutationFn: () => api(`/v1/bots/${bot.id}`, { method: 'DELETE' }),
    onSuccess: async () => {
      queries.removeQueries({ queryKey: ['bot', bot.id] });
      await queries.invalidateQueries({ queryKey: ['bots'] });
      await navigate('/', { replace: true });
    },
  });
  return (
    <section aria-labelledby="delete-heading" className="panel danger-zone">
      <h2 id="delete-heading">Delete this bot</h2>
      <p>Deleting removes its knowledge base, channels, conversations and settings for good. Users writing to it get no answer.</p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (typed.trim() === bot.name.trim()) remove.mutate();
        }}
      >
        <div className="field">
          <label htmlFor="confirm-delete">Type the bot’s name, {bot.name}, to confirm</label>
          <input id="confirm-delete" autoComplete="off" value={typed} onChange={(e) => setTyped(e.target.value)} />
        </div>
        <ErrorMessage error={remove.error} />
        <button type="submit" className="button danger" disabled={typed.trim() !== bot.name.trim() || remove.isPending}>
          {remove.isPending ? 'Deleting…' : 'Delete bot'}
        </button>
      </form>
    </section>
  );
}
