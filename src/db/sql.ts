// How ascend reaches PostgreSQL (the data-access rule; the README's "where things go" says it too):
//
// - Entities and the unit of work (em.find / em.create / flush) for records with identity and a lifecycle:
//   users, clinics, doctors, patients, working hours, leave, and the audit events written beside them
//   (src/domain/entities; test/db/schema-drift.test.ts keeps them equal to the migrations).
// - Named SQL, one module per query family, for the hot booking statement, bulk writes, searches and reports.
//   Slots and appointments are read and written this way only: booking is one guarded statement on a slot
//   locked FOR UPDATE, and letting the ORM track a Slot and an Appointment for it was measured 2.9x slower.
//
// Raw SQL reaches the database through this module and nowhere else: `query` runs in the caller's
// transaction (its EntityManager's), `preparedQuery` is the hot path, and `Sql` is the shape both it and a
// bare `pg` client (the fast path of `whoami`, which must not pay for loading the ORM) offer to code that
// runs on either. Placeholders are `?`.
import type { Knex } from '@mikro-orm/knex';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ClientBase } from 'pg';
import { toDatabaseError } from './errors.js';
import { namedStatementsAllowed } from './pooler.js';

export type Row = Record<string, unknown>;

export interface Sql {
  /**
   * With a `name`, the statement is prepared once per connection and its plan reused (hot paths); behind a
   * transaction pooler (ASCEND_DB_POOLER=transaction, ./pooler.ts) the name is dropped and it runs unnamed.
   */
  query<T = Row>(text: string, params?: unknown[], name?: string): Promise<T[]>;
}

export interface ClosableSql extends Sql {
  close(): Promise<void>;
}

function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/** Raw SQL in the em's transaction (or on a pooled connection outside one), through MikroORM's connection. */
export async function query<T extends object = Row>(em: EntityManager, text: string, params: unknown[] = []): Promise<T[]> {
  // The rows are whatever the SQL selects: T is the caller's statement of that shape.
  const rows: T[] = await em.getConnection().execute(text, params, 'all', em.getTransactionContext());
  return rows;
}

// Named statements are a fixed set of texts: each is numbered once.
const numberedStatements = new Map<string, string>();

/** The statement's name, or none where a name would not survive (a transaction pooler: ./pooler.ts). */
const statementName = (name: string | undefined): { name?: string } => (name && namedStatementsAllowed() ? { name } : {});

/**
 * Raw SQL as a named prepared statement, with its parameters sent apart from the text (MikroORM's execute
 * inlines them, so PostgreSQL plans every call afresh). For the hot paths only: the name must be unique to
 * the SQL text, and the text fixed. It goes straight to the pool's pg client (or the open transaction's):
 * knex's query building cost more than the query's own work. Behind a transaction pooler it runs as the
 * unnamed statement (parsed and planned on each call, the parameters still sent apart).
 */
export async function preparedQuery<T extends object = Row>(em: EntityManager, name: string, text: string, params: unknown[]): Promise<T[]> {
  const { client } = (em.getTransactionContext<Knex.Transaction>() ?? em.getConnection().getKnex()) as Knex;
  const connection: ClientBase = await client.acquireConnection();
  try {
    let numberedText = numberedStatements.get(text);
    if (!numberedText) {
      numberedText = numbered(text);
      numberedStatements.set(text, numberedText);
    }
    return (await connection.query<T>({ ...statementName(name), text: numberedText, values: params })).rows;
  } finally {
    await client.releaseConnection(connection);
  }
}

/** The em's connection as an `Sql`, for code that also runs on a bare client. */
export function sqlOf(em: EntityManager): Sql {
  return {
    query: <T>(text: string, params: unknown[] = [], name?: string): Promise<T[]> =>
      name ? preparedQuery<T & object>(em, name, text, params) : query<T & object>(em, text, params),
  };
}

export async function connectSql(url: string): Promise<ClosableSql> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (err) {
    throw toDatabaseError(err, url);
  }
  return {
    async query<T>(text: string, params: unknown[] = [], name?: string) {
      try {
        return (await client.query({ text: numbered(text), values: params, ...statementName(name) })).rows as T[];
      } catch (err) {
        throw toDatabaseError(err, url);
      }
    },
    close: () => client.end(),
  };
}
