import { expect } from 'vitest';
import { DocumentLoadError } from '../../rag/types.js';

/** The reason a creator reads when reading a document (or fetching its address) fails: the promise must reject with a DocumentLoadError. */
export async function loadFailureReason(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DocumentLoadError);
  return (err as Error).message;
}
