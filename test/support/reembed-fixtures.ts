/** What the re-embedding tests share: two fake embedding models of different dimensions and a guide to ingest. */
import type pg from 'pg';

export const OLD_MODEL = 'embed-small';
export const NEW_MODEL = 'embed-wide';
export const DIMS = { [OLD_MODEL]: 64, [NEW_MODEL]: 96 };

const TOPICS = [
  'Keep a fixed wake time every morning, weekends included, and let bedtime follow from it.',
  'Dim the lights an hour before bed; bright screens late at night push sleep back.',
  'A short nap of twenty minutes after lunch restores focus without ruining the night.',
  'Caffeine lingers for hours: the last coffee belongs before noon for light sleepers.',
  'Habits stick when they are tied to a cue you already have, such as brushing your teeth.',
  'Track one habit at a time on paper; a streak you can see is a streak you keep.',
  'Stretch the hips and hamstrings for five minutes after long stretches of sitting.',
  'Walk outside in daylight within an hour of waking to anchor your body clock.',
  'Write tomorrow’s three most important tasks before you stop working today.',
  'Breathe in for four counts and out for six when stress rises before a meeting.',
];

/** A Markdown guide whose paragraphs become one chunk each (CHUNK_SIZE 200). */
export function guide(title: string, offset: number): Buffer {
  const paragraphs = TOPICS.map((_, i) => TOPICS[(i + offset) % TOPICS.length]!);
  return Buffer.from(`# ${title}\n\n${paragraphs.map((p, i) => `## Tip ${i + 1}\n\n${p}`).join('\n\n')}\n`);
}

/** Platform settings: one chunk per paragraph or two, several embedding batches per document, crashes noticed fast. */
export const reembedEnv = {
  CHUNK_SIZE: '200',
  CHUNK_OVERLAP: '0',
  // Several batches per document, so progress moves in steps and a crash lands mid-way.
  EMBED_BATCH_SIZE: '2',
  INGEST_LOCK_DURATION_MS: '1500',
  INGEST_STALLED_INTERVAL_MS: '300',
};

/** The bot's vectors in pgvector, per model. */
export async function vectorModels(pool: pg.Pool, botId: string): Promise<Array<{ model: string; dims: number; n: number; chunks: number }>> {
  const { rows } = await pool.query<{ model: string; dims: number; n: number; chunks: number }>(
    `SELECT model, dims, count(*)::int AS n, count(DISTINCT chunk_id)::int AS chunks FROM chunk_embeddings WHERE bot_id = $1 GROUP BY model, dims ORDER BY model`,
    [botId],
  );
  return rows;
}

