// A minimal query interface, satisfied both by a bare `pg` client (the fast path of `whoami`, which must not
// pay for loading the ORM) and by an EntityManager's connection. Placeholders are `?`.
import type { EntityManager } from '@mikro-orm/postgresql';
import { toDatabaseError } from './errors.js';

export interface Sql {
  /** With a `name`, the statement is prepared once per connection and its plan reused (hot paths). */
  query<T = Record<string, unknown>>(text: string, params?: unknown[], name?: string): Promise<T[]>;
}

export interface ClosableSql extends Sql {
  close(): Promise<void>;
}

function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
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
        return (await client.query({ text: numbered(text), values: params, ...(name ? { name } : {}) })).rows as T[];
      } catch (err) {
        throw toDatabaseError(err, url);
      }
    },
    close: () => client.end(),
  };
}

// Named statements are a fixed set of texts: each is numbered once.
const numberedStatements = new Map<string, string>();

export function sqlOf(em: EntityManager): Sql {
  return {
    async query<T>(text: string, params: unknown[] = [], name?: string) {
      if (!name) return em.getConnection().execute<T[]>(text, params as never[], 'all', em.getTransactionContext());
      // The hot paths: straight to the pool's pg client (or the open transaction's), the parameters apart so
      // PostgreSQL reuses the plan, and none of knex's query building (it cost more than the query's own work).
      const { client } = (em.getTransactionContext() ?? em.getConnection().getKnex()) as import('@mikro-orm/knex').Knex;
      const connection = (await client.acquireConnection()) as import('pg').ClientBase;
      try {
        let numberedText = numberedStatements.get(text);
        if (!numberedText) {
          numberedText = numbered(text);
          numberedStatements.set(text, numberedText);
        }
        return (await connection.query<T & object>({ name, text: numberedText, values: params })).rows;
      } finally {
        await client.releaseConnection(connection);
      }
    },
  };
}
