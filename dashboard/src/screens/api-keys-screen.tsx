import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { api } from '../api';
import { CopyButton } from '../copy-button';
import { ConfirmButton, ErrorMessage, ListStates, PageHeading, RecordTable, RowActions, When } from '../ui';

interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/** Keys for scripts and integrations: create one (its secret shown once), see when each was used, revoke. */
export function ApiKeysScreen() {
  const queries = useQueryClient();
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: () => api<{ apiKeys: ApiKey[] }>('/v1/api-keys') });
  const [created, setCreated] = useState<(ApiKey & { key: string }) | null>(null);
  const { register, handleSubmit, reset, formState } = useForm<{ name: string }>({ defaultValues: { name: '' } });
  const refresh = () => queries.invalidateQueries({ queryKey: ['api-keys'] });
  const create = useMutation({
    mutationFn: (name: string) => api<ApiKey & { key: string }>('/v1/api-keys', { method: 'POST', body: { name } }),
    onSuccess: async (key) => {
      setCreated(key);
      reset({ name: '' });
      await refresh();
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api(`/v1/api-keys/${id}`, { method: 'DELETE' }),
    onSuccess: async (_, id) => {
      if (created?.id === id) setCreated(null);
      await refresh();
    },
  });
  return (
    <>
      <PageHeading title="API keys">API keys</PageHeading>
      <p className="lead">
        A key lets a script or another service use the API as you: send it as <code>Authorization: Bearer &lt;key&gt;</code>. Revoke a key you no longer use.
      </p>
      <section aria-labelledby="new-key" className="panel">
        <h2 id="new-key">Create a key</h2>
        <form className="inline-form" onSubmit={handleSubmit(({ name }) => create.mutate(name.trim()))} noValidate>
          <label htmlFor="key-name" className="visually-hidden">
            Key name
          </label>
          <input
            id="key-name"
            placeholder="What it is for, e.g. Zapier"
            aria-describedby={formState.errors.name ? 'key-name-error' : undefined}
            aria-invalid={formState.errors.name ? true : undefined}
            {...register('name', { required: 'Name the key after what will use it', maxLength: { value: 200, message: 'At most 200 characters' } })}
          />
          <button type="submit" className="button" disabled={create.isPending}>
            Create key
          </button>
        </form>
        {formState.errors.name ? (
          <p className="field-error" id="key-name-error">
            {formState.errors.name.message}
          </p>
        ) : null}
        <ErrorMessage error={create.error} />
        {created ? (
          <div className="notice new-secret" role="status">
            <p>
              <strong>Your new key “{created.name}”.</strong> Copy it now: it is not shown again.
            </p>
            <p>
              <code className="copy-value">{created.key}</code> <CopyButton text={created.key} what="API key" label="Copy key" />
            </p>
          </div>
        ) : null}
      </section>
      <section aria-labelledby="keys-list">
        <h2 id="keys-list">Your keys</h2>
        <ListStates what="your keys" pending={keys.isPending} error={keys.error ?? revoke.error} empty={keys.data?.apiKeys.length === 0} emptyTitle="No keys yet">
          Create one above when a script or integration needs to use the API.
        </ListStates>
        {keys.data && keys.data.apiKeys.length > 0 ? (
          <RecordTable caption="Your API keys" columns={['Name', 'Starts with', 'Created', 'Last used']} actions>
            {keys.data.apiKeys.map((key) => (
              <tr key={key.id}>
                <td className="doc-title">{key.name}</td>
                <td data-label="Starts with">
                  <code>{key.prefix}…</code>
                </td>
                <td data-label="Created">
                  <When at={key.createdAt} />
                </td>
                <td data-label="Last used">{key.lastUsedAt ? <When at={key.lastUsedAt} /> : 'Never'}</td>
                <RowActions>
                  <ConfirmButton name={`Revoke ${key.name}`} question={`Revoke “${key.name}”? Anything using it stops working at once.`} disabled={revoke.isPending} onConfirm={() => revoke.mutate(key.id)}>
                    Revoke
                  </ConfirmButton>
                </RowActions>
              </tr>
            ))}
          </RecordTable>
        ) : null}
      </section>
    </>
  );
}
