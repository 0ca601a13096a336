import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { allEntities } from '../domain/entities/index.js';
import { QUEUE_SCHEMA } from './schema-version.js';

const quiet = () => {};
const toStderr = (message: unknown) => process.stderr.write(`knex: ${String(message)}\n`);
const knexLog =
  process.env.LOG_LEVEL === 'debug'
    ? { warn: toStderr, error: toStderr, deprecate: toStderr, debug: toStderr }
    : { warn: quiet, error: quiet, deprecate: quiet, debug: quiet };

/**
 * MikroORM settings shared by the CLI, the HTTP server, the tests and mikro-orm.config.ts. Entities are
 * defined with defineEntity (no decorators, no reflection), so discovery needs no TypeScript metadata.
 */
export function ormConfig(url: string, overrides: Partial<Options> = {}): Options {
  return defineConfig({
    clientUrl: url,
    entities: allEntities,
    discovery: { warnWhenNoEntities: false },
    // Entities are loaded explicitly per query; nothing reaches the database behind the code's back.
    forceEntityConstructor: false,
    implicitTransactions: true,
    allowGlobalContext: false,
    debug: process.env.LOG_LEVEL === 'debug' ? ['query', 'query-params'] : false,
    // knex writes its own warnings ("Connection Error: …", one per pooled connection in an outage) to stdout,
    // where they would break --json and repeat what the outage log already says once. Only LOG_LEVEL=debug
    // shows them, on stderr.
    driverOptions: { log: knexLog },
    // The job queue's tables are graphile-worker's own, migrated by it (src/db/migrator.ts).
    schemaGenerator: { ignoreSchema: [QUEUE_SCHEMA] },
    migrations: { tableName: 'mikro_orm_migrations', transactional: true, allOrNothing: true, snapshot: false, silent: true },
    ...overrides,
    // An override of the pool changes what it names and keeps the rest (the idle timeout).
    pool: { min: 0, max: 4, idleTimeoutMillis: 10_000, ...overrides.pool },
  });
}
