// The migrator is loaded only by the commands that migrate: it pulls in umzug and the migration classes.
import { Migrator } from '@mikro-orm/migrations';
import type { MikroORM } from '@mikro-orm/postgresql';
import { migrationsList } from '../../migrations/index.js';
import { openOrm } from './orm.js';
import { query } from './sql.js';

export interface MigrationStatus {
  applied: string[];
  pending: string[];
}

function migratorFor(orm: MikroORM): Migrator {
  orm.config.set('migrations', { ...orm.config.get('migrations'), migrationsList });
  return new Migrator(orm.em);
}

/** Applies every pending migration in one transaction; returns the names applied. */
export async function migrate(orm: MikroORM): Promise<string[]> {
  const applied = await migratorFor(orm).up();
  return applied.map((m) => m.name);
}

export async function migrationStatus(orm: MikroORM): Promise<MigrationStatus> {
  const migrator = migratorFor(orm);
  const applied = (await migrator.getExecutedMigrations()).map((m) => m.name);
  const pending = (await migrator.getPendingMigrations()).map((m) => m.name);
  return { applied, pending };
}

/** Drops every ascend table and migrates again from nothing. */
export async function resetSchema(orm: MikroORM): Promise<string[]> {
  await query(orm.em, 'drop schema public cascade; create schema public;');
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
