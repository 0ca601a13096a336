import { p } from '@mikro-orm/core';

/** Columns every table has: a serial id and the two timestamps (timestamptz, like every time in ascend). */
export function baseProperties() {
  return {
    id: p.integer().primary().autoincrement(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  };
}
