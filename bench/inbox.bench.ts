/**
 * Inbox latency on the real PostgreSQL: one bot with 10k conversations and 1M messages (500k user
 * messages, each answered by a reply in the ledger), in a throwaway database. Measures the inbox's
 * own statements (InboxRepository, as the API runs them) next to a plain indexed SELECT of the
 * same rows in the same run:
 *
 *   list      first page of 30, newest first, flags and last message    vs  SELECT the 30 conversation rows by the inbox index
 *   deep      page 50 (conversations 1471–1500) through the cursor       vs  the same rows by (last_message_at, id) < cursor
 *   moved     page 50 again after 200 conversations got a message        (positions rebuilt as of the first page)
 *   status    status=unanswered (5% of conversations)                   (no baseline: the flag is computed)
 *   search    q=<a word in ~0.2% of messages>, and q=<a word in 10%>    vs  SELECT the matching messages' conversations by the GIN index
 *   transcript  50 newest items of a conversation, and the page before  vs  SELECT the conversation's 50 newest inbound rows
 *
 *   npm run bench:inbox [-- --conversations 10000 --turns 50 --samples 200 --keep]
 *
 * Prints a table and writes bench/results/inbox-<timestamp>.json. Figures, not assertions.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { InboxPosition, InboxQuery, TranscriptPosition } from '../src/conversation/inbox.ports.js';
import { InboxRepository } from '../src/db/inbox.repository.js';
import { migrate } from '../src/db/migrate.js';
import { percentile, saveResults } from './bench-report.js';
import { withPgClient } from '../test/support/test-database.js';

const { values: args } = parseArgs({
  options: {
    conversations: { type: 'string', default: '10000' },
    // Turns per conversation: each is one user message and one reply (two messages).
    turns: { type: 'string', default: '50' },
    samples: { type: 'string', default: '200' },
    // Leaves the database in place (its name is printed) for EXPLAIN ANALYZE afterwards.
    keep: { type: 'boolean', default: false },
  },
});
const CONVERSATIONS = Number(args.conversations);
const TURNS = Number(args.turns);
const SAMPLES = Number(args.samples);
const adminUrl = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const UNKNOWN = "I don't have that in my material yet.";
const COMMON = 'sleep';

const admin = <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => withPgClient(adminUrl, work);

function summarise(samples: number[]) {
  return { p50: percentile(samples, 0.5), p95: percentile(samples, 0.95), n: samples.length };
}

async function timed(samples: number, work: (i: number) => Promise<unknown>): Promise<ReturnType<typeof summarise>> {
  for (let i = 0; i < Math.min(20, samples); i++) await work(i);
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await work(i);
    times.push(performance.now() - started);
  }
  return summarise(times);
}

// Seeds everything with set-based statements. Words come from a vocabulary of 5000 made-up words
// (each in about 0.2% of user messages and replies) plus COMMON, put in one user message of ten.
async function seed(pool: pg.Pool): Promise<{ botId: string; vocabulary: string[] }> {
  await pool.query(`SELECT setseed(0.42)`);
  const { rows: creators } = await pool.query<{ id: string }>(
    `INSERT INTO creators (email, name, password_hash) VALUES ('bench@example.test', 'Bench', 'x') RETURNING id`,
  );
  const { rows: bots } = await pool.query<{ id: string }>(
    `INSERT INTO bots (creator_id, name, settings) VALUES ($1, 'Bench coach', jsonb_build_object('unknownAnswer', $2::text)) RETURNING id`,
    [creators[0]!.id, UNKNOWN],
  );
  const botId = bots[0]!.id;
  // Another tenant's bot with a little of everything, so every statement has something to leave out.
  await pool.query(`INSERT INTO bots (creator_id, name) VALUES ($1, 'Other coach')`, [creators[0]!.id]);
  const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'te', 'vi', 'do', 'pe', 'ga', 'fo', 'li', 'mu', 'ba', 'zo', 'ri', 'ta', 'en', 'or'];
  const vocabulary = Array.from({ length: 5000 }, (_, i) => {
    let word = '';
    for (let n = i + 400; n > 0; n = Math.floor(n / syllables.length)) word += syllables[n % syllables.length];
    return word;
  });
  // Word n of the vocabulary, spelled by SQL as above (three syllables for 400 <= n + 400 < 8000): no table read per word.
  const s = `'${syllables.join('')}'`;
  await pool.query(`CREATE FUNCTION bench_word(n int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT substr(${s}, 1 + 2 * (n % 20), 2) || substr(${s}, 1 + 2 * ((n / 20) % 20), 2) || substr(${s}, 1 + 2 * ((n / 400) % 20), 2) $$`);
  // k random vocabulary words: each random() call is its own, per row.
  const words = (k: number) => `concat_ws(' ', ${Array.from({ length: k }, () => `bench_word(400 + floor(random() * 5000)::int)`).join(', ')})`;

  await pool.query(
    `INSERT INTO contacts (bot_id, channel, external_id, display_name, username)
     SELECT $1, ch, g::text, CASE WHEN ch = 'web' THEN NULL ELSE 'Contact ' || g END, CASE WHEN ch = 'telegram' AND g % 3 = 0 THEN 'user' || g END
       FROM generate_series(1, $2::int) g, LATERAL (SELECT CASE WHEN g % 10 < 6 THEN 'telegram' WHEN g % 10 < 9 THEN 'whatsapp' ELSE 'web' END AS ch) c`,
    [botId, CONVERSATIONS],
  );
  // Each conversation's turns are 37 minutes apart and end at a random point in the last 60 days.
  await pool.query(
    `INSERT INTO conversations (bot_id, contact_id, channel, external_chat_id, created_at, last_message_at)
     SELECT bot_id, id, channel, external_id, now() - interval '120 days', now() FROM contacts WHERE bot_id = $1`,
    [botId],
  );
  await pool.query(
    `CREATE TABLE bench_ends AS SELECT id AS conversation_id, now() - random() * interval '60 days' AS ended_at FROM conversations WHERE bot_id = $1`,
    [botId],
  );
  // 5% of conversations end with a message still waiting, 5% with "I don't know".
  await pool.query(
    `INSERT INTO turns (bot_id, conversation_id, kind, status, texts, reply, sources, attempts, created_at, updated_at, answered_at)
     SELECT $1, e.conversation_id, 'message',
            CASE WHEN j = $2 AND hashtext(e.conversation_id::text) % 20 = 0 THEN 'processing' ELSE 'answered' END,
            ARRAY[${words(8)} || CASE WHEN random() < 0.1 THEN ' ${COMMON}' ELSE '' END],
            CASE WHEN j = $2 AND hashtext(e.conversation_id::text) % 20 = 0 THEN NULL
                 WHEN j = $2 AND hashtext(e.conversation_id::text) % 20 = 1 THEN $3
                 ELSE ${words(12)} END,
            CASE WHEN j = $2 AND hashtext(e.conversation_id::text) % 20 IN (0, 1) THEN '[]'::jsonb
                 ELSE jsonb_build_array(jsonb_build_object('documentId', gen_random_uuid(), 'title', 'Guide', 'page', j)) END,
            1, t, t, t
       FROM bench_ends e, generate_series(1, $2::int) j, LATERAL (SELECT e.ended_at - ($2 - j) * interval '37 minutes' AS t) at`,
    [botId, TURNS, UNKNOWN],
  );
  await pool.query(
    `INSERT INTO inbound_messages (bot_id, channel, external_id, conversation_id, contact_id, kind, text, payload, received_at, turn_id)
     SELECT t.bot_id, c.channel, t.id::text, t.conversation_id, c.contact_id, 'text', t.texts[1],
            jsonb_build_object('kind', 'text', 'attachments', '[]'::jsonb), t.created_at - interval '1 second', t.id
       FROM turns t JOIN conversations c ON c.id = t.conversation_id WHERE t.bot_id = $1
      ORDER BY t.conversation_id, t.created_at`,
    [botId],
  );
  await pool.query(
    `INSERT INTO outbound_messages (bot_id, conversation_id, turn_id, status, text, external_message_ids, attempts, created_at, updated_at, sent_at)
     SELECT bot_id, conversation_id, id, CASE WHEN status = 'processing' THEN 'pending' ELSE 'sent' END, reply,
            CASE WHEN status = 'processing' THEN '{}'::text[] ELSE ARRAY[id::text] END, 1, created_at, created_at, answered_at
       FROM turns WHERE bot_id = $1`,
    [botId],
  );
  await pool.query(
    `UPDATE conversations c SET last_message_at = e.ended_at FROM bench_ends e WHERE e.conversation_id = c.id`,
  );
  await pool.query('DROP TABLE bench_ends; DROP FUNCTION bench_word');
  await pool.query('VACUUM ANALYZE');
  return { botId, vocabulary };
}

interface Figures {
  list: ReturnType<typeof summarise>;
  listBaseline: ReturnType<typeof summarise>;
  deep: ReturnType<typeof summarise>;
  deepBaseline: ReturnType<typeof summarise>;
  moved: ReturnType<typeof summarise>;
  unanswered: ReturnType<typeof summarise>;
  search: ReturnType<typeof summarise>;
  searchBaseline: ReturnType<typeof summarise>;
  searchCommon: ReturnType<typeof summarise>;
  transcript: ReturnType<typeof summarise>;
  transcriptDeep: ReturnType<typeof summarise>;
  transcriptBaseline: ReturnType<typeof summarise>;
}

async function measure(pool: pg.Pool, botId: string, vocabulary: string[]): Promise<Figures> {
  const inbox = new InboxRepository(pool);
  const query: InboxQuery = { limit: 30, unknownReplies: [UNKNOWN] };
  const micros = (position: InboxPosition) => [position.atMicros, position.id];

  const list = await timed(SAMPLES, () => inbox.list(botId, query));
  const listBaseline = await timed(SAMPLES, () =>
    pool.query(`SELECT * FROM conversations WHERE bot_id = $1 ORDER BY last_message_at DESC, id DESC LIMIT 31`, [botId]),
  );

  // Page 50 through the cursor.
  let after: InboxPosition | undefined;
  for (let page = 1; page < 50; page++) {
    const result = await inbox.list(botId, { ...query, ...(after ? { after } : {}) });
    after = result.next!;
  }
  const deep = await timed(SAMPLES, () => inbox.list(botId, { ...query, after: after! }));
  const deepBaseline = await timed(SAMPLES, () =>
    pool.query(
      `SELECT * FROM conversations WHERE bot_id = $1 AND (last_message_at, id) < (timestamptz 'epoch' + $2::bigint * interval '1 microsecond', $3::uuid)
        ORDER BY last_message_at DESC, id DESC LIMIT 31`,
      [botId, ...micros(after!)],
    ),
  );
  // 200 conversations get a message after the first page was read: the next pages place them as of then.
  await pool.query(
    `WITH picked AS (SELECT id, contact_id, channel FROM conversations WHERE bot_id = $1 ORDER BY hashtext(id::text) LIMIT 200),
     stored AS (
       INSERT INTO inbound_messages (bot_id, channel, external_id, conversation_id, contact_id, kind, text, payload, received_at)
       SELECT $1, channel, 'moved-' || id, id, contact_id, 'text', 'one more thing', '{}'::jsonb, clock_timestamp() FROM picked
       RETURNING conversation_id, received_at
     )
     UPDATE conversations c SET last_message_at = s.received_at FROM stored s WHERE s.conversation_id = c.id`,
    [botId],
  );
  const moved = await timed(SAMPLES, () => inbox.list(botId, { ...query, after: after! }));
  const unanswered = await timed(SAMPLES, () => inbox.list(botId, { ...query, status: 'unanswered' }));

  const words = (i: number) => vocabulary[(i * 7919) % vocabulary.length]!;
  const search = await timed(SAMPLES, (i) => inbox.list(botId, { ...query, search: words(i) }));
  const searchBaseline = await timed(SAMPLES, (i) =>
    pool.query(
      `SELECT DISTINCT conversation_id FROM inbound_messages WHERE bot_id = $1 AND to_tsvector('simple', text) @@ websearch_to_tsquery('simple', $2)`,
      [botId, words(i)],
    ),
  );
  const searchCommon = await timed(Math.min(SAMPLES, 50), () => inbox.list(botId, { ...query, search: COMMON }));

  const { rows: conversations } = await pool.query<{ id: string }>(`SELECT id FROM conversations WHERE bot_id = $1 ORDER BY hashtext(id::text) LIMIT 500`, [botId]);
  const pick = (i: number) => conversations[i % conversations.length]!.id;
  const transcript = await timed(SAMPLES, (i) => inbox.transcript(botId, pick(i), { limit: 50 }));
  const before = new Map<string, TranscriptPosition>();
  for (let i = 0; i < Math.min(SAMPLES, conversations.length); i++) {
    const page = await inbox.transcript(botId, pick(i), { limit: 50 });
    if (page?.next) before.set(pick(i), page.next);
  }
  const transcriptDeep = await timed(SAMPLES, (i) => inbox.transcript(botId, pick(i), { limit: 50, ...(before.has(pick(i)) ? { before: before.get(pick(i))! } : {}) }));
  const transcriptBaseline = await timed(SAMPLES, (i) =>
    pool.query(`SELECT * FROM inbound_messages WHERE conversation_id = $1 ORDER BY received_at DESC, seq DESC LIMIT 51`, [pick(i)]),
  );
  return { list, listBaseline, deep, deepBaseline, moved, unanswered, search, searchBaseline, searchCommon, transcript, transcriptDeep, transcriptBaseline };
}

const name = `t_bench_${randomBytes(5).toString('hex')}`;
await admin((c) => c.query(`CREATE DATABASE ${name}`));
const url = new URL(adminUrl);
url.pathname = `/${name}`;
const pool = new pg.Pool({ connectionString: url.toString(), max: 4, options: '-c maintenance_work_mem=512MB' });
let figures: Figures;
let seedSeconds: number;
let counts: Record<string, number>;
try {
  await migrate(pool);
  console.log(`seeding ${CONVERSATIONS} conversations × ${TURNS} turns (${CONVERSATIONS * TURNS * 2} messages)…`);
  const started = performance.now();
  const { botId, vocabulary } = await seed(pool);
  seedSeconds = (performance.now() - started) / 1000;
  const { rows } = await pool.query<Record<string, number>>(
    `SELECT (SELECT count(*)::int FROM conversations) AS conversations, (SELECT count(*)::int FROM inbound_messages) AS inbound,
            (SELECT count(*)::int FROM outbound_messages) AS outbound, (SELECT count(*)::int FROM turns) AS turns`,
  );
  counts = rows[0]!;
  console.log(`  seeded in ${seedSeconds.toFixed(1)} s: ${JSON.stringify(counts)}`);
  figures = await measure(pool, botId, vocabulary);
} finally {
  await pool.end();
  if (args.keep) console.log(`  kept database ${name}`);
  else await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

const ms = (x: number) => x.toFixed(2).padStart(8);
const row = (label: string, s: { p50: number; p95: number }, baseline?: { p95: number }) =>
  console.log(`${label.padEnd(34)} | ${ms(s.p50)} | ${ms(s.p95)} | ${baseline ? `${ms(baseline.p95)} | ${(s.p95 / baseline.p95).toFixed(1).padStart(6)}x` : '       - |      -'}`);
console.log(`\nlatency in ms over ${SAMPLES} runs          |      p50 |      p95 | baseline p95 | ratio p95`);
row('list, first page of 30', figures.list, figures.listBaseline);
row('list, page 50 via cursor', figures.deep, figures.deepBaseline);
row('list, page 50, 200 moved since', figures.moved, figures.deepBaseline);
row('list, status=unanswered', figures.unanswered, figures.listBaseline);
row('search, word in ~0.2% of messages', figures.search, figures.searchBaseline);
row(`search, "${COMMON}" in 10% of user msgs`, figures.searchCommon, figures.searchBaseline);
row('transcript, newest 50', figures.transcript, figures.transcriptBaseline);
row('transcript, the 50 before', figures.transcriptDeep, figures.transcriptBaseline);
for (const [label, s] of [['list baseline', figures.listBaseline], ['deep baseline', figures.deepBaseline], ['search baseline', figures.searchBaseline], ['transcript baseline', figures.transcriptBaseline]] as const) {
  console.log(`${label.padEnd(34)} | ${ms(s.p50)} | ${ms(s.p95)}`);
}
const file = saveResults('inbox', {
  benchmark: 'inbox',
  date: new Date().toISOString(),
  conversations: CONVERSATIONS,
  turnsPerConversation: TURNS,
  samples: SAMPLES,
  seedSeconds,
  counts,
  target: 'p95 <= 50 ms',
  figures,
});
console.log(`\nsaved ${path.relative(process.cwd(), file)}`);
const listP95 = Math.max(figures.list.p95, figures.deep.p95);
const transcriptP95 = Math.max(figures.transcript.p95, figures.transcriptDeep.p95);
console.log(
  `list_p95_ms=${listP95.toFixed(2)} transcript_p95_ms=${transcriptP95.toFixed(2)} search_p95_ms=${figures.search.p95.toFixed(2)} baseline_p95_ms=${figures.listBaseline.p95.toFixed(2)}`,
);
