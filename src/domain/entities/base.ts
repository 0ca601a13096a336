import { p } from '@mikro-orm/core';

/**
 * What every entity states so that it matches the migrations (test/db/schema-drift.test.ts compares them):
 * the entities describe the tables the migrations make, never the other way round.
 */

/** Columns every table has: a serial id and the two timestamps (timestamptz, like every time in ascend). */
export function baseProperties() {
  return {
    id: p.integer().primary().autoincrement(),
    createdAt: p
      .datetime()
      .defaultRaw('now()')
      .onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .defaultRaw('now()')
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  };
}

/**
 * The name PostgreSQL gives a foreign key declared with a bare `references` (as the migrations do):
 * `<table>_<column>_fkey`. The ORM's own default (`…_foreign`) would differ from the database.
 */
export const foreignKey = (table: string, column: string): string => `${table}_${column}_fkey`;
