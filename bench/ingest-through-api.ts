import { createBot, type CreatorSession } from '../test/support/creator-session.js';
import { multipart } from '../test/support/multipart.js';
import type { TestPlatform } from '../test/support/test-platform.js';
import { waitFor } from '../test/support/wait-for.js';

/**
 * Uploads `files` to a new bot of `session` through the documents API and waits until every one is
 * ready (throwing on the first that failed, with its reason). Resolves to the seconds it took.
 */
export async function ingestThroughApi(
  platform: TestPlatform,
  session: CreatorSession,
  files: Array<{ name: string; type: string; bytes: Buffer }>,
  what: string,
): Promise<number> {
  const bot = await createBot(platform.app, session.auth);
  const started = performance.now();
  for (const file of files) {
    const body = multipart(file);
    const response = await platform.app.inject({ method: 'POST', url: `/v1/bots/${bot.id}/documents`, headers: { ...session.auth, ...body.headers }, payload: body.payload });
    if (response.statusCode !== 202) throw new Error(`upload failed: ${response.statusCode} ${response.body}`);
  }
  await waitFor(
    async () => {
      const { rows } = await platform.infrastructure.database.pool.query<{ status: string; error: string | null }>('SELECT status, error FROM documents WHERE bot_id = $1', [bot.id]);
      const failed = rows.find((r) => r.status === 'failed');
      if (failed) throw new Error(`a ${what} failed to ingest: ${failed.error}`);
      return rows.length === files.length && rows.every((r) => r.status === 'ready') ? rows : undefined;
    },
    { timeoutMs: 600_000, intervalMs: 50, what: `every ${what} ready` },
  );
  return (performance.now() - started) / 1000;
}
