import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { api } from '../api';
import type { FaqPair } from '../types';
import { EmptyState, ErrorMessage, Field, Loading } from '../ui';

type Draft = { question: string; answer: string };

const rules = {
  question: { required: 'Write the question', validate: (v: string) => v.trim() !== '' || 'Write the question', maxLength: { value: 1000, message: 'At most 1,000 characters' } },
  answer: { required: 'Write your answer', validate: (v: string) => v.trim() !== '' || 'Write your answer', maxLength: { value: 4000, message: 'At most 4,000 characters' } },
};

/** A question and answer form: adding a pair, or changing one in place. `onSubmit` resolves whether it was saved. */
function FaqForm({ initial, submitLabel, onSubmit, onCancel }: { initial?: Draft; submitLabel: string; onSubmit: (draft: Draft) => Promise<boolean>; onCancel?: () => void }) {
  const { register, handleSubmit, reset, formState } = useForm<Draft>({ defaultValues: initial ?? { question: '', answer: '' } });
  const { errors, isSubmitting } = formState;
  return (
    <form
      className="faq-form"
      onSubmit={handleSubmit(async (draft) => {
        // A refused pair stays in the form, to be corrected; the reason shows above the list.
        if ((await onSubmit({ question: draft.question.trim(), answer: draft.answer.trim() })) && !initial) reset();
      })}
    >
      <Field label="Question" hint="As your users would ask it." error={errors.question?.message}>
        {(props) => <input {...props} {...register('question', rules.question)} />}
      </Field>
      <Field label="Answer" hint="Your own answer; without a model it is sent exactly as written." error={errors.answer?.message}>
        {(props) => <textarea {...props} rows={3} {...register('answer', rules.answer)} />}
      </Field>
      <div className="row-actions">
        <button className="button" type="submit" disabled={isSubmitting}>
          {submitLabel}
        </button>
        {onCancel ? (
          <button className="button secondary" type="button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}

/** The bot's FAQ pairs: written here or read from FAQ sheets; a question matching one is answered with it. */
export function FaqSection({ botId }: { botId: string }) {
  const queries = useQueryClient();
  const key = ['faqs', botId];
  const faqs = useInfiniteQuery({
    queryKey: key,
    queryFn: ({ pageParam }) => api<{ faqs: FaqPair[]; nextCursor: string | null }>(`/v1/bots/${botId}/faqs?${new URLSearchParams({ limit: '50', ...(pageParam ? { after: pageParam } : {}) })}`),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const [editing, setEditing] = useState<string | null>(null);
  const refresh = () => queries.invalidateQueries({ queryKey: key });
  const add = useMutation({ mutationFn: (draft: Draft) => api(`/v1/bots/${botId}/faqs`, { method: 'POST', body: draft }), onSettled: refresh });
  const save = useMutation({
    mutationFn: ({ id, draft }: { id: string; draft: Draft }) => api(`/v1/bots/${botId}/faqs/${id}`, { method: 'PATCH', body: draft }),
    onSuccess: () => setEditing(null),
    onSettled: refresh,
  });
  const remove = useMutation({ mutationFn: (id: string) => api(`/v1/bots/${botId}/faqs/${id}`, { method: 'DELETE' }), onSettled: refresh });
  const list = faqs.data?.pages.flatMap((p) => p.faqs) ?? [];

  return (
    <section aria-labelledby="faqs">
      <h2 id="faqs">FAQ</h2>
      <p className="hint">When a user asks one of these questions, in their own words, the bot answers with your answer and cites it as FAQ.</p>
      <FaqForm submitLabel="Add question" onSubmit={(draft) => add.mutateAsync(draft).then(() => true, () => false)} />
      {faqs.isPending ? <Loading what="the FAQ" /> : null}
      <ErrorMessage error={faqs.error ?? add.error ?? save.error ?? remove.error} />
      {faqs.data && list.length === 0 ? (
        <EmptyState title="No questions yet">Add the questions your users ask most with your answers above, or upload a spreadsheet with Question and Answer columns.</EmptyState>
      ) : null}
      {list.length ? (
        <ul className="faq-list" aria-label="Questions and answers">
          {list.map((pair) => (
            <li key={pair.id}>
              {editing === pair.id ? (
                <FaqForm
                  initial={{ question: pair.question, answer: pair.answer }}
                  submitLabel="Save"
                  onSubmit={(draft) => save.mutateAsync({ id: pair.id, draft }).then(() => true, () => false)}
                  onCancel={() => setEditing(null)}
                />
              ) : (
                <>
                  <p className="faq-question">{pair.question}</p>
                  <p className="faq-answer">{pair.answer}</p>
                  {pair.source === 'document' ? (
                    <p className="muted">From an uploaded sheet{pair.location ? `, ${pair.location.label}` : ''}: change the sheet and upload it again to change it.</p>
                  ) : (
                    <div className="row-actions">
                      <button type="button" className="button secondary small" aria-label={`Edit “${pair.question}”`} onClick={() => setEditing(pair.id)}>
                        Edit
                      </button>
                      <button
                        type="button"
                        className="button danger small"
                        aria-label={`Delete “${pair.question}”`}
                        onClick={() => {
                          if (window.confirm(`Delete the question “${pair.question}”?`)) remove.mutate(pair.id);
                        }}
                      >
                        Delete
                      </button>
                    </div>
                  )}
                </>
              )}
            </li>
          ))}
        </ul>
      ) : null}
      {faqs.hasNextPage ? (
        <button type="button" className="button secondary" disabled={faqs.isFetchingNextPage} onClick={() => void faqs.fetchNextPage()}>
          {faqs.isFetchingNextPage ? 'Loading…' : 'Show more questions'}
        </button>
      ) : null}
    </section>
  );
}
