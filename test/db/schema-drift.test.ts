/**
 * Entities and migrations cannot drift.
 *
 * The migrations are the source of truth: hand-written SQL with rules the ORM cannot express. The entities
 * (src/domain/entities) must describe exactly what the ORM can see of the tables they map, so that what the
 * unit of work writes and reads is what the database holds. This compares the migrated database with the
 * entities' metadata using MikroORM's own schema diff (SchemaComparator, the one behind
 * `orm.schema.getUpdateSchemaSQL()`) and fails on any difference, showing it as the SQL MikroORM would run to
 * make the database match the entities.
 *
 * Compared, in every table an entity maps:
 * - columns: name, type with its length, nullability, default, and an enum's values (PostgreSQL keeps them as
 *   a `col in (…)` check, which MikroORM reads back as the column's values: `role` against ROLES);
 * - the primary key; foreign keys: name, columns, referenced table, on update and on delete rules;
 * - plain (btree, column) indexes and unique constraints: name, columns, uniqueness.
 * And every table: each is an entity's, or listed in SQL_ONLY_TABLES (reached by named SQL only, see
 * src/db/sql.ts); a table in neither, or an entity without a table, is a difference.
 *
 * Not compared, because the ORM cannot express them (they live in the migrations alone):
 * - check constraints (other than the enum lists above): the rules on values (not blank, ranges, shapes);
 * - indexes on expressions (lower(email)), partial indexes (… where is_active), GIN trigram indexes, covering
 *   (INCLUDE) indexes, and the indexes behind exclusion constraints (no overlapping slots, leave or hours).
 *   Which ones is read from PostgreSQL's catalog (pg_index, pg_am, pg_constraint), never from a list of names,
 *   and only those the database has and no entity declares are left out;
 * - triggers and functions (booked_count, the daily maximum, the append-only audit log, the auth notices):
 *   MikroORM's schema reader does not read them at all.
 * The last tests prove both halves: a change of each compared kind makes the diff non-empty, and a new rule of
 * each ignored kind leaves it empty.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { DatabaseSchema, SchemaComparator, type MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query } from '../../src/db/sql.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

/** Tables with no entity: read and written by named SQL only (the data-access rule, src/db/sql.ts). */
const SQL_ONLY_TABLES = [
  'slot',
  'appointment',
  'app_setting',
  'login_failure',
  'login_address',
  'session',
  'session_retired_token',
  'appointment_slot',
  'idempotency_request',
  'user_image',
  'outbox_event',
  'webhook_endpoint',
  'webhook_delivery',
  'appointment_reminder',
  'mail_message',
  'read_mark',
  'waitlist_entry',
  'waitlist_offer',
  'waitlist_freed_place',
  'appointment_series',
];

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

/** Indexes the ORM cannot describe, by the catalog: expressions, predicates, other access methods, INCLUDE, exclusion. */
async function indexesTheOrmCannotExpress(em: EntityManager): Promise<Set<string>> {
  const rows = await query<{ name: string }>(
    em,
    `select i.relname as name
       from pg_index x
       join pg_class i on i.oid = x.indexrelid
       join pg_namespace n on n.oid = i.relnamespace
       join pg_am am on am.oid = i.relam
      where n.nspname = current_schema()
        and (x.indexprs is not null or x.indpred is not null or am.amname <> 'btree' or x.indnkeyatts <> x.indnatts
             or exists (select 1 from pg_constraint c where c.conindid = x.indexrelid and c.contype = 'x'))`,
  );
  return new Set(rows.map((r) => r.name));
}

/**
 * The SQL that would make the database (as `em` sees it, in its transaction if it has one) match the
 * entities, leaving out what the ORM cannot express; '' when they agree.
 */
async function schemaDrift(orm: MikroORM, em: EntityManager): Promise<string> {
  const platform = orm.em.getPlatform();
  const ctx = em.getTransactionContext();
  const database = await DatabaseSchema.create(em.getConnection(), platform, orm.config, undefined, undefined, undefined, SQL_ONLY_TABLES, ctx);
  const diff = new SchemaComparator(platform).compare(database, orm.schema.getTargetSchema());
  const inexpressible = await indexesTheOrmCannotExpress(em);
  for (const table of Object.values(diff.changedTables)) {
    for (const name of Object.keys(table.removedIndexes)) if (inexpressible.has(name)) delete table.removedIndexes[name];
    table.removedChecks = {};
  }
  return orm.schema.diffToSQL(diff, { wrap: false, safe: false, dropTables: true });
}

/** The drift after running `ddl` on the database, in a transaction that is then rolled back. */
async function driftAfter(ddl: string): Promise<string> {
  const em = db.em();
  await em.begin();
  try {
    await query(em, ddl);
    return await schemaDrift(db.orm, em);
  } finally {
    await em.rollback();
  }
}

describe('entities and migrations', () => {
  it('the entities describe the migrated database exactly: the schema diff is empty', async () => {
    expect(await schemaDrift(db.orm, db.em())).toBe('');
  });

  it('every table has an entity or is listed as reached by named SQL only', async () => {
    const tables = await query<{ name: string }>(
      db.em(),
      `select table_name as name from information_schema.tables
        where table_schema = current_schema() and table_type = 'BASE TABLE' and table_name <> 'mikro_orm_migrations' order by 1`,
    );
    const mapped = Object.values(db.orm.getMetadata().getAll()).map((meta) => meta.tableName);
    expect(tables.map((t) => t.name)).toEqual([...mapped, ...SQL_ONLY_TABLES].sort());
  });

  it('leaves out the indexes the ORM cannot express, and only those', async () => {
    const inexpressible = await indexesTheOrmCannotExpress(db.em());
    // One of each kind, from the migrations: expression, partial, GIN trigram, partial covering, exclusion.
    for (const name of ['user_email_lower_unique', 'doctor_active_clinic_idx', 'user_name_trgm_idx', 'slot_free_cover_idx', 'doctor_leave_no_overlap']) {
      expect(inexpressible).toContain(name);
    }
    // The plain indexes and unique constraints the entities declare are compared.
    for (const name of ['user_role_idx', 'doctor_clinic_idx', 'doctor_user_unique', 'patient_user_unique', 'audit_event_entity_idx', 'user_pkey']) {
      expect(inexpressible).not.toContain(name);
    }
  });
});

describe('the diff bites: a migration changing what an entity describes, without the entity, is caught', () => {
  it.each([
    {
      change: 'a column type',
      ddl: 'alter table clinic alter column city type varchar(150)',
      shows: /alter table "clinic" alter column "city" type varchar\(100\)/,
    },
    { change: 'nullability', ddl: 'alter table doctor alter column qualifications set not null', shows: /alter column "qualifications" drop not null/ },
    { change: 'a default', ddl: 'alter table doctor alter column max_patients_per_day set default 30', shows: /"max_patients_per_day" set default 20/ },
    { change: 'a column no entity has', ddl: `alter table "user" add column nickname varchar(50)`, shows: /drop column "nickname"/ },
    {
      change: 'an entity property with no column',
      ddl: 'alter table clinic drop column phone',
      shows: /alter table "clinic" add column "phone" varchar\(32\) null/,
    },
    {
      change: 'an enum value',
      ddl: `alter table "user" drop constraint user_role_check, add constraint user_role_check check (role in ('admin', 'doctor', 'patient', 'nurse'))`,
      shows: /add constraint "user_role_check" check\("role" in \('admin', 'doctor', 'patient'\)\)/,
    },
    {
      change: 'a foreign key dropped',
      ddl: 'alter table doctor_leave drop constraint doctor_leave_doctor_id_fkey',
      shows: /add constraint "doctor_leave_doctor_id_fkey" foreign key/,
    },
    {
      change: 'a foreign key rule',
      ddl: 'alter table doctor drop constraint doctor_clinic_id_fkey, add constraint doctor_clinic_id_fkey foreign key (clinic_id) references clinic (id) on delete cascade',
      shows: /drop constraint "doctor_clinic_id_fkey";\s+alter table "doctor" add constraint "doctor_clinic_id_fkey" foreign key/,
    },
    { change: 'a plain index dropped', ddl: 'drop index doctor_clinic_idx', shows: /create index "doctor_clinic_idx"/ },
    { change: 'a plain index no entity has', ddl: 'create index clinic_timezone_idx on clinic (timezone)', shows: /drop index "clinic_timezone_idx"/ },
    { change: 'a unique constraint dropped', ddl: 'alter table patient drop constraint patient_user_unique', shows: /"patient_user_unique" unique/ },
    { change: 'a table with neither entity nor listing', ddl: 'create table waitlist (id serial primary key)', shows: /drop table if exists "waitlist"/ },
    { change: 'an entity with no table', ddl: 'drop table doctor_leave', shows: /create table "doctor_leave"/ },
  ])('$change', async ({ ddl, shows }) => {
    expect(await driftAfter(ddl)).toMatch(shows);
  });
});

describe('what the ORM cannot express is left out, so it never fails the diff', () => {
  it.each([
    { rule: 'a check constraint', ddl: `alter table clinic add constraint clinic_zip_digits check (zip ~ '^[0-9]+$')` },
    { rule: 'a partial index', ddl: 'create index clinic_active_city_idx on clinic (city) where is_active' },
    { rule: 'an expression index', ddl: 'create index clinic_lower_name_idx on clinic (lower(name))' },
    {
      rule: 'an exclusion constraint',
      ddl: `alter table doctor_leave add constraint doctor_leave_no_twin exclude using gist (doctor_id with =, starts_at with =)`,
    },
    {
      rule: 'a trigger',
      ddl: `create function clinic_touch() returns trigger language plpgsql as $$ begin new.updated_at := now(); return new; end $$;
            create trigger clinic_touch before update on clinic for each row execute function clinic_touch()`,
    },
  ])('$rule', async ({ ddl }) => {
    expect(await driftAfter(ddl)).toBe('');
  });
});
