// Each test file gets a database of its own, cloned from the migrated template: files run in parallel and
// no test sees another's data.
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import pg from 'pg';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { openOrm } from '../../src/db/orm.js';
import type { TestClock } from '../../src/domain/clock.js';
import type { Actor } from '../../src/domain/roles.js';
import { type ServiceContext, serviceContext } from '../../src/services/context.js';
import { startWaitlist } from '../../src/services/waitlist/watch.js';
import { frozenClock } from './clock.js';

export interface TestDatabase {
  url: string;
  orm: MikroORM;
  /**
   * What "now" is for every service this file runs, and for its HTTP server: frozen at FROZEN_AT
   * (./clock.ts), the instant its CLI runs get as ASCEND_NOW. A test that moves it puts it back.
   */
  clock: TestClock;
  /** A fresh EntityManager (a new unit of work). */
  em(): EntityManager;
  /** A service context acting as `actor`: a fresh unit of work, on the file's clock. */
  ctx(actor: Actor): ServiceContext;
  /** Runs raw SQL with `$n` placeholders. */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = inject('pgServerUrl');
  const name = `ascend_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name} template ${inject('pgTemplate')}`);
  await admin.end();
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const orm = await openOrm(url, { pool: { min: 0, max: 10 } });
  const raw = new pg.Pool({ connectionString: url, max: 4 });
  const clock = frozenClock();
  // As every program does where it starts: the places services free in this file are offered to its waitlist.
  startWaitlist();
  return {
    url,
    orm,
    clock,
    em: () => orm.em.fork(),
    ctx: (actor) => serviceContext(orm.em.fork(), actor, clock),
    sql: async (text, params = []) => (await raw.query(text, params)).rows,
    drop: async () => {
      await orm.close(true);
      await raw.end();
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
