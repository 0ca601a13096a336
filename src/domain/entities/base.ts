import { p } from '@mikro-orm/core';
import { type Clock, systemClock } from '../clock.js';

/**
 * What every entity states so that it matches the migrations (test/db/schema-drift.test.ts compares them):
 * the entities describe the tables the migrations make, never the other way round.
 */

// The unit of work stamps createdAt and updatedAt (updatedAt only when something else changed) with the clock
// of the service context that writes: transaction() (src/services/locks.ts) binds its context's clock to the
// transaction's EntityManager, which MikroORM hands to the hooks. A unit of work nobody bound (rows written
// outside a service) gets the system's time, as a column default would.
const unitClocks = new WeakMap<object, Clock>();

/** Entities this EntityManager writes are stamped with `clock`. */
export function stampWith(em: object, clock: Clock): void {
  unitClocks.set(em, clock);
}

/** "Now" for the entities a unit of work writes. */
export const stampOf = (em: object): Date => (unitClocks.get(em) ?? systemClock).now();

/** Columns every table has: a serial id and the two timestamps (timestamptz, like every time in ascend). */
export function baseProperties() {
  return {
    id: p.integer().primary().autoincrement(),
    createdAt: p
      .datetime()
      .defaultRaw('now()')
      .onCreate((_entity, em) => stampOf(em)),
    updatedAt: p
      .datetime()
      .defaultRaw('now()')
      .onCreate((_entity, em) => stampOf(em))
      .onUpdate((_entity, em) => stampOf(em)),
  };
}

/**
 * The name PostgreSQL gives a foreign key declared with a bare `references` (as the migrations do):
 * `<table>_<column>_fkey`. The ORM's own default (`…_foreign`) would differ from the database.
 */
export const foreignKey = (table: string, column: string): string => `${table}_${column}_fkey`;
