import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ProtocolBatchQueue } from './pglite-protocol-queue.js';
import { ResilientClient } from './resilient-client.js';

/** The platform's database handle: a `pg` pool, however the server behind it is provided. */
export interface Database {
  pool: pg.Pool;
  /** Connection string other clients (BullMQ's PostgreSQL backend) can use. */
  url: string;
  kind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  poolMax: number;
  /** Told when the embedded database is about to be created (the first start: a few seconds more). */
  onCreating?: ((dir: string) => void) | undefined;
}

// Return numeric aggregates (count(*), sums) as numbers; values stay well inside 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/** Opens PostgreSQL at `databaseUrl`, or an embedded PGlite under `dataDir` when none is given. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const pool = createPool(options.databaseUrl, options.poolMax);
    return { pool, url: options.databaseUrl, kind: 'postgres', close: () => pool.end() };
  }
  const dir = path.join(options.dataDir, 'pgdata');
  // PGlite's own test for an existing database.
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    options.onCreating?.(dir);
    await createEmbeddedDatabase(dir);
  }
  return openEmbeddedDatabase(dir, options.poolMax);
}

/** A pool as every process of the platform opens it: resilient clients, idle errors reported, not thrown. */
export function createPool(connectionString: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 5_000, Client: ResilientClient });
  // An idle client losing its server is reported here; without a listener it would crash the process.
  pool.on('error', () => undefined);
  return pool;
}

// Connections the queue layer opens to the embedded database beside the app's pool: for each of
// BullMQ's five queues (src/jobs/queues.ts) a Queue and a Worker, each with a pool of 3 and a LISTEN
// client (up to 40), and the job repair pool, with room for workers being replaced. The server
// resets any connection past its limit, so the limit must cover all of them; each costs one socket,
// as they share one session.
const QUEUE_CONNECTIONS = 56;

// Buffers of the embedded database: enough for a small platform's hot pages and indexes.
const SHARED_BUFFERS = '32MB';

// This file runs as .ts under tsx and vitest and as .js once built; the process's entry sits beside it
// with the same extension, and a .ts entry is run with tsx's loader.
const extension = path.extname(fileURLToPath(import.meta.url));
const initEntry = fileURLToPath(new URL(`./pglite-init.process${extension}`, import.meta.url));

/** Creates the embedded database's files in a child process (see pglite-init.process.ts for why). */
async function createEmbeddedDatabase(dir: string): Promise<void> {
  const child = fork(initEntry, [dir], { execArgv: extension === '.ts' ? ['--import', 'tsx'] : [], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-2_000)));
  const code = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('exit', resolve));
  if (code !== 0) throw new Error(`creating the embedded database under ${dir} failed (exit ${code}): ${stderr}`);
}

/**
 * Embedded PostgreSQL (PGlite + pgvector) served in-process over the wire protocol, so `pg` pools and
 * BullMQ's PostgreSQL backend work unchanged on a machine with nothing but Node.
 */
async function openEmbeddedDatabase(dir: string, poolMax: number): Promise<Database> {
  const [{ PGlite }, { vector }, { PGLiteSocketServer }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-pgvector'),
    import('@electric-sql/pglite-socket'),
  ]);
  // PostgreSQL's shared buffers live in the WASM heap and are resident from the start: its default
  // (128 MB) is most of the process's memory, while the files are cached by the OS anyway.
  const db = await PGlite.create({
    dataDir: dir,
    extensions: { vector },
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${SHARED_BUFFERS}`],
  });
  // PGlite has a single session shared by every socket client: BullMQ's tables live in their own
  // schema and ours in public, so both must be on the session's search path.
  await db.exec('CREATE SCHEMA IF NOT EXISTS bullmq; SET search_path TO bullmq, public;');
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: poolMax + QUEUE_CONNECTIONS });
  // Connections take the queue from the server when they attach; see pglite-protocol-queue.ts for why.
  (server as unknown as { queryQueue: ProtocolBatchQueue }).queryQueue = new ProtocolBatchQueue(db);
  await server.start();
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  const pool = createPool(url, poolMax);
  return {
    pool,
    url,
    kind: 'pglite',
    async close() {
      await pool.end();
      await server.stop();
      await db.close();
    },
  };
}
