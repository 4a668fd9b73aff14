import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from './api';

/**
 * Saves a record of `collection`: a new one (POST) or, given `id`, changes to it (PATCH). Once saved,
 * the lists under `listKey` are fetched again before `saved` runs, so what follows sees the change.
 */
export function useSave<Body>(collection: string, id: string | undefined, listKey: readonly unknown[], saved: () => void) {
  const queries = useQueryClient();
  return useMutation({
    mutationFn: (body: Body) => api<unknown>(id ? `${collection}/${id}` : collection, { method: id ? 'PATCH' : 'POST', body }),
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: listKey });
      saved();
    },
  });
}
