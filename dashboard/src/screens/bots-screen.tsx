import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { Link, useNavigate } from 'react-router';
import { api } from '../api';
import type { Bot } from '../types';
import { EmptyState, ErrorMessage, Field, Loading, PageHeading } from '../ui';

interface NewBot {
  name: string;
  persona: string;
  language: string;
}

const channelNames: Record<string, string> = { telegram: 'Telegram', whatsapp: 'WhatsApp', web: 'Web chat' };

/** The creator's bots, and the form that creates one. */
export function BotsScreen() {
  const bots = useQuery({ queryKey: ['bots'], queryFn: () => api<{ bots: Bot[] }>('/v1/bots') });
  return (
    <>
      <PageHeading title="Your bots">Your bots</PageHeading>
      <div className="columns">
        <section aria-labelledby="bots-list">
          <h2 id="bots-list">Bots</h2>
          {bots.isPending ? <Loading what="your bots" /> : null}
          <ErrorMessage error={bots.error} />
          {bots.data && bots.data.bots.length === 0 ? (
            <EmptyState title="No bots yet">Create your first bot with the form: give it a name, then add your material to its knowledge base.</EmptyState>
          ) : null}
          {bots.data && bots.data.bots.length > 0 ? (
            <ul className="cards">
              {bots.data.bots.map((bot) => (
                <li key={bot.id} className="card">
                  <Link to={`/bots/${bot.id}/knowledge`} className="card-title">
                    {bot.name}
                  </Link>
                  <p className="muted">
                    Language {bot.language}
                    {bot.channels.length ? ` · on ${bot.channels.map((c) => channelNames[c.channel] ?? c.channel).join(', ')}` : ''}
                  </p>
                </li>
              ))}
            </ul>
          ) : null}
        </section>
        <CreateBot />
      </div>
    </>
  );
}

function CreateBot() {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const { register, handleSubmit, formState } = useForm<NewBot>({ defaultValues: { name: '', persona: '', language: 'en' } });
  const create = useMutation({
    mutationFn: (body: NewBot) =>
      api<Bot>('/v1/bots', { method: 'POST', body: { name: body.name, language: body.language, ...(body.persona.trim() ? { persona: body.persona } : {}) } }),
    onSuccess: async (bot) => {
      await queries.invalidateQueries({ queryKey: ['bots'] });
      await navigate(`/bots/${bot.id}/knowledge`);
    },
  });
  return (
    <section aria-labelledby="create-bot" className="panel">
      <h2 id="create-bot">Create a bot</h2>
      <form onSubmit={handleSubmit((values) => create.mutate(values))} noValidate>
        <Field label="Name" error={formState.errors.name?.message}>
          {(props) => <input {...props} {...register('name', { required: 'Give the bot a name', maxLength: { value: 200, message: 'At most 200 characters' } })} />}
        </Field>
        <Field label="Persona" hint="How the bot presents itself and coaches, e.g. “A warm sleep coach who answers briefly.” Optional.">
          {(props) => <textarea {...props} rows={4} {...register('persona', { maxLength: { value: 20000, message: 'At most 20,000 characters' } })} />}
        </Field>
        <Field label="Language" hint="A language code such as en, de or pt-BR: the language it answers in." error={formState.errors.language?.message}>
          {(props) => (
            <input
              {...props}
              list="languages"
              autoComplete="off"
              {...register('language', {
                required: 'Choose a language',
                pattern: { value: /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, message: 'Use a language code such as en, de or pt-BR' },
              })}
            />
          )}
        </Field>
        <datalist id="languages">
          {['en', 'de', 'fr', 'es', 'it', 'nl', 'pt-BR', 'pl'].map((code) => (
            <option key={code} value={code} />
          ))}
        </datalist>
        <ErrorMessage error={create.error} />
        <button className="button" type="submit" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create bot'}
        </button>
      </form>
    </section>
  );
}
