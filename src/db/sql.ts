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

export function sqlOf(em: EntityManager): Sql {
  return {
    async query<T>(text: string, params: unknown[] = [], name?: string) {
      if (!name) return em.getConnection().execute<T[]>(text, params as never[], 'all', em.getTransactionContext());
      // Through knex with the parameters apart (MikroORM's execute inlines them), so PostgreSQL can reuse the plan.
      const knex = (em.getTransactionContext() ?? em.getConnection().getKnex()) as import('@mikro-orm/knex').Knex;
      return ((await knex.raw(text, params as never[]).options({ name })) as unknown as { rows: T[] }).rows;
    },
  };
}
