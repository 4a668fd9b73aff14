import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/database.js';
import { loadMigrations, migrate } from '../../src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const databases: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(databases.splice(0).map((d) => d.drop()));
});

async function freshDatabase() {
  const db = await createTestDatabase({ migrate: false });
  databases.push(db);
  return db;
}

describe('migrations', () => {
  it('applies every numbered migration once and records it', async () => {
    const db = await freshDatabase();
    const expected = (await loadMigrations()).map((m) => m.name);
    expect(await migrate(db.pool)).toEqual(expected);
    const { rows } = await db.pool.query('SELECT name FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.name)).toEqual(expected);
    // The schema is really there: a creator can be stored.
    await db.pool.query("INSERT INTO creators (email, name, password_hash) VALUES ('a@example.com', 'A', 'x')");
  });

  it('applies nothing on a restart', async () => {
    const db = await freshDatabase();
    await migrate(db.pool);
    expect(await migrate(db.pool)).toEqual([]);
  });

  it('applies each migration exactly once when several processes start together', async () => {
    const db = await freshDatabase();
    // Separate pools, opened as each process opens its own, stand in for separate processes: each
    // has its own sessions and advisory lock.
    const pools = Array.from({ length: 4 }, () => createPool(db.url, 2));
    try {
      const results = await Promise.all(pools.map((p) => migrate(p)));
      const appliedCounts = results.map((r) => r.length);
      const total = (await loadMigrations()).length;
      expect(appliedCounts.filter((n) => n === total)).toHaveLength(1);
      expect(appliedCounts.filter((n) => n === 0)).toHaveLength(3);
      const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM schema_migrations');
      expect(rows[0].n).toBe(total);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('refuses to run when an applied migration was edited afterwards', async () => {
    const db = await freshDatabase();
    const dir = mkdtempSync(path.join(tmpdir(), 'migrations-'));
    writeFileSync(path.join(dir, '0001_first.sql'), 'CREATE TABLE first_table (id int);');
    await migrate(db.pool, dir);
    writeFileSync(path.join(dir, '0001_first.sql'), 'CREATE TABLE first_table (id bigint);');
    await expect(migrate(db.pool, dir)).rejects.toThrow(/0001_first changed after it was applied/);
  });

  it('rolls back a failing migration completely and keeps earlier ones', async () => {
    const db = await freshDatabase();
    const dir = mkdtempSync(path.join(tmpdir(), 'migrations-'));
    writeFileSync(path.join(dir, '0001_ok.sql'), 'CREATE TABLE ok_table (id int);');
    writeFileSync(path.join(dir, '0002_broken.sql'), 'CREATE TABLE half_table (id int); SELECT no_such_function();');
    await expect(migrate(db.pool, dir)).rejects.toThrow(/0002_broken failed/);
    const { rows } = await db.pool.query(
      "SELECT to_regclass('public.ok_table') AS ok, to_regclass('public.half_table') AS half",
    );
    expect(rows[0].ok).toBe('ok_table');
    expect(rows[0].half).toBeNull();
    const recorded = await db.pool.query('SELECT name FROM schema_migrations');
    expect(recorded.rows.map((r) => r.name)).toEqual(['0001_ok']);
  });
});
