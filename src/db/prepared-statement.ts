import type pg from 'pg';

/**
 * Statements run for every message and every turn, prepared once per connection instead of planned
 * on every run: the multi-CTE ones take PostgreSQL longer to plan than to execute on small inputs.
 * Only on PostgreSQL: the embedded database has one session behind every connection, where the same
 * statement name prepared by two connections would collide.
 */
export class PreparedStatements {
  constructor(private readonly enabled: boolean) {}

  /** The query for `pool.query`/`client.query`; `name` must stay unique to `text`. */
  query(name: string, text: string, values: unknown[]): pg.QueryConfig {
    return this.enabled ? { name, text, values } : { text, values };
  }
}
