// The statements every message runs (accept, claim, settle) are prepared once per connection on PostgreSQL, by
// name, instead of being parsed and planned at each call. In PostgreSQL's statement log under the end-to-end load,
// parse and bind (where an unnamed statement is planned) took longer than executing. A prepared statement's
// result columns must stay what they were when it was prepared (a migration adding a column to a table behind a
// `select *` breaks it), so these statements name their columns.
import type { Knex } from 'knex';

/** Query options that make a raw statement a named prepared statement on PostgreSQL; none on PGlite. */
export function prepared(db: Knex | Knex.Transaction, name: string): Readonly<Record<string, unknown>> {
  return db.client.config.client === 'pg' ? { name } : {};
}
