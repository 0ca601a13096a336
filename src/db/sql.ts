// A minimal query interface, satisfied both by a bare `pg` client (the fast path of `whoami`, which must not
// pay for loading the ORM) and by an EntityManager's connection. Placeholders are `?`.
import type { EntityManager } from '@mikro-orm/postgresql';
import { toDatabaseError } from './errors.js';

export interface Sql {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
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
    async query<T>(text: string, params: unknown[] = []) {
      try {
        return (await client.query(numbered(text), params)).rows as T[];
      } catch (err) {
        throw toDatabaseError(err, url);
      }
    },
    close: () => client.end(),
  };
}

export function sqlOf(em: EntityManager): Sql {
  return {
    query: <T>(text: string, params: unknown[] = []) => em.getConnection().execute<T[]>(text, params as never[], 'all', em.getTransactionContext()),
  };
}
