// The migrator is loaded only by the commands that migrate: it pulls in umzug and the migration classes.
import { Migrator } from '@mikro-orm/migrations';
import type { MikroORM } from '@mikro-orm/postgresql';
// Static (the migrator is itself loaded on demand): the bundle gives a dynamic import of this CommonJS package
// only its default export.
import { Logger, runMigrations } from 'graphile-worker';
import { migrationsList } from '../../migrations/index.js';
import { openOrm } from './orm.js';
import { QUEUE_SCHEMA } from './schema-version.js';
import { query } from './sql.js';

export interface MigrationStatus {
  applied: string[];
  pending: string[];
}

function migratorFor(orm: MikroORM): Migrator {
  orm.config.set('migrations', { ...orm.config.get('migrations'), migrationsList });
  return new Migrator(orm.em);
}

/**
 * graphile-worker's own migrations, on a connection of their own (they take a pg client, not the ORM's):
 * idempotent, and safe when several processes run them at once (each of its migrations is claimed by a row).
 */
async function migrateQueue(orm: MikroORM): Promise<void> {
  const url = orm.config.get('clientUrl');
  if (!url) throw new Error('migrate: the ORM has no client URL');
  // Its debug lines ("Running migration …") are not ascend's; an error is thrown, and reported as any other.
  const quiet = new Logger(() => () => {});
  await runMigrations({ connectionString: url, maxPoolSize: 1, schema: QUEUE_SCHEMA, logger: quiet });
}

/**
 * Applies every pending migration in one transaction, then installs or upgrades the job queue's schema
 * (graphile-worker's, which ascend_emit_event calls into); returns the names of ascend's migrations applied.
 */
export async function migrate(orm: MikroORM): Promise<string[]> {
  const applied = await migratorFor(orm).up();
  await migrateQueue(orm);
  return applied.map((m) => m.name);
}

/**
 * Applies ascend's migrations up to and including `name`, not the job queue's (a restore recreates the schema
 * its backup was taken at, loads it, then migrates forward with migrate()).
 */
export async function migrateUpTo(orm: MikroORM, name: string): Promise<string[]> {
  const applied = await migratorFor(orm).up({ to: name });
  return applied.map((m) => m.name);
}

export async function migrationStatus(orm: MikroORM): Promise<MigrationStatus> {
  const migrator = migratorFor(orm);
  const applied = (await migrator.getExecutedMigrations()).map((m) => m.name);
  const pending = (await migrator.getPendingMigrations()).map((m) => m.name);
  return { applied, pending };
}

/** Drops every ascend table and the job queue (its jobs name events that are gone), and migrates again from nothing. */
export async function resetSchema(orm: MikroORM): Promise<string[]> {
  await query(orm.em, `drop schema if exists ${QUEUE_SCHEMA} cascade; drop schema public cascade; create schema public;`);
  return migrate(orm);
}

export async function migrateUrl(url: string): Promise<string[]> {
  const orm = await openOrm(url, { pool: { min: 0, max: 1 } });
  try {
    return await migrate(orm);
  } finally {
    await orm.close();
  }
}
