// `ascend db verify`: every invariant the schema is meant to keep, checked against the data as it is. The
// database enforces these as it writes (constraints, deferred triggers); verify finds what got past them: a
// trigger disabled by hand, a restore from elsewhere, rows written with session_replication_role = replica.
//
// One entry per invariant: its name, the rule in words, and a query returning one row per violation, whose
// `id` names the offending record ("slot 12"). A new rule (a waitlist's holds and offers) adds its entry here.
// All run in one read-only snapshot, so a database in use is judged as of one instant.
//
// "Gap-free" audit log: audit ids come from a bigserial, which skips the ids of transactions that rolled back,
// so a gap in the ids says nothing. What can be checked is that no committed change lacks its audit row and
// that no audit row has gone: every appointment has the audit event of its booking, and every appointment
// event in the outbox (written at the same commit, from the audit row) still has the audit row it was made
// from. Append-only is the trigger that refuses UPDATE and DELETE: it must be there and enabled.
import { migrationsList } from '../../migrations/index.js';
import { connectSql, type Sql } from '../db/sql.js';
import { WAITLIST_INVARIANTS } from './waitlist/invariants.js';

export interface Invariant {
  name: string;
  rule: string;
  /** One row per violation, with an `id` naming the record; `?` placeholders. */
  sql: string;
  params?: () => unknown[];
}

const APPOINTMENT_ACTIONS = `('appointment.book', 'appointment.reschedule', 'appointment.move', 'appointment.cancel', 'appointment.complete', 'appointment.no-show')`;
/** The outbox event type an appointment audit action makes (audit_event_appointment_commit). */
const EVENT_TYPE_OF_ACTION = `case e.action when 'appointment.book' then 'appointment.booked' when 'appointment.reschedule' then 'appointment.rescheduled'
  when 'appointment.move' then 'appointment.moved' when 'appointment.cancel' then 'appointment.cancelled'
  when 'appointment.complete' then 'appointment.completed' when 'appointment.no-show' then 'appointment.no_show' end`;

const knownMigrations = () => migrationsList.map((m) => m.name);

export const INVARIANTS: Invariant[] = [
  {
    name: 'slot_booked_count',
    rule: "a slot's booked_count equals its live appointments (held first, or further on in a longer visit)",
    sql: `select 'slot ' || s.id as id
            from slot s
            left join (select slot_id, count(*) as n
                         from (select a.slot_id from appointment a where a.status <> 'cancelled'
                               union all
                               select x.slot_id from appointment_slot x join appointment a on a.id = x.appointment_id where a.status <> 'cancelled') held
                        group by slot_id) c on c.slot_id = s.id
           where s.booked_count <> coalesce(c.n, 0)`,
  },
  {
    name: 'slot_capacity',
    rule: 'a slot has no more places booked and held for the waitlist than its capacity, and none below zero',
    sql: `select 'slot ' || id as id from slot where booked_count < 0 or held_count < 0 or booked_count + held_count > capacity`,
  },
  {
    name: 'patient_no_overlap',
    rule: 'no patient has two booked appointments at overlapping times',
    sql: `select 'appointment ' || id as id
            from (select id, starts_at,
                         max(ends_at) over (partition by patient_id order by starts_at, id rows between unbounded preceding and 1 preceding) as before_ends
                    from appointment where status = 'booked') a
           where before_ends > starts_at`,
  },
  {
    name: 'doctor_slots_no_overlap',
    rule: 'no doctor has two active slots at overlapping times',
    sql: `select 'slot ' || id as id
            from (select id, starts_at,
                         max(ends_at) over (partition by doctor_id order by starts_at, id rows between unbounded preceding and 1 preceding) as before_ends
                    from slot where is_active) s
           where before_ends > starts_at`,
  },
  {
    name: 'doctor_day_max',
    rule: "no doctor has more live appointments in a clinic day (the clinic's zone) than their daily maximum",
    sql: `select 'doctor ' || d.id || ' on ' || v.day as id
            from (select a.doctor_id, (a.starts_at at time zone c.timezone)::date as day, count(*) as n
                    from appointment a join clinic c on c.id = a.clinic_id
                   where a.status <> 'cancelled'
                   group by a.doctor_id, day) v
            join doctor d on d.id = v.doctor_id
           where v.n > d.max_patients_per_day`,
  },
  {
    name: 'patient_user_has_record',
    rule: 'every user with the patient role has a patient record',
    sql: `select 'user ' || u.id as id from "user" u where u.role = 'patient' and not exists (select 1 from patient p where p.user_id = u.id)`,
  },
  {
    name: 'audit_append_only',
    rule: 'the audit log refuses UPDATE and DELETE (its trigger audit_event_append_only is there and enabled)',
    sql: `select 'trigger audit_event_append_only' as id
           where not exists (select 1 from pg_trigger t
                              where t.tgrelid = 'audit_event'::regclass and t.tgname = 'audit_event_append_only' and t.tgenabled in ('O', 'A'))`,
  },
  {
    name: 'audit_gap_free',
    rule: 'every appointment has the audit event of its booking, and every appointment event in the outbox still has the audit event it was made from',
    sql: `select 'appointment ' || a.id as id from appointment a
           where not exists (select 1 from audit_event e where e.entity = 'appointment' and e.entity_id = a.id::text and e.action = 'appointment.book')
          union all
          select 'event ' || o.id from outbox_event o
           where o.appointment_id is not null and o.type in ('appointment.booked', 'appointment.rescheduled', 'appointment.moved', 'appointment.cancelled', 'appointment.completed', 'appointment.no_show')
             and not exists (select 1 from audit_event e
                              where e.entity = 'appointment' and e.entity_id = o.appointment_id::text and e.at = o.at and ${EVENT_TYPE_OF_ACTION} = o.type)`,
  },
  {
    name: 'outbox_event_for_change',
    rule: 'every committed appointment change (its audit event) has its outbox event, since the outbox began (the first appointment event)',
    sql: `select 'audit_event ' || e.id as id from audit_event e
           where e.entity = 'appointment' and e.action in ${APPOINTMENT_ACTIONS}
             and e.at >= (select min(o.at) from outbox_event o where o.appointment_id is not null)
             and not exists (select 1 from outbox_event o where o.appointment_id = e.entity_id::integer and o.at = e.at and o.type = ${EVENT_TYPE_OF_ACTION})`,
  },
  {
    // The table has no checks or unique index of its own: they cost every event a fifth of its write
    // (Migration20261206010000_outbox_event_lean), and ascend_emit_event alone writes events.
    name: 'outbox_event_shape',
    rule: "every event's id is evt_ and 32 hex digits and no other event's, its type lowercase words, its data an object",
    sql: `select 'event ' || o.id as id from outbox_event o
           where o.id !~ '^evt_[0-9a-f]{32}$' or o.type !~ '^[a-z][a-z0-9_.-]*$' or jsonb_typeof(o.data) <> 'object'
          union all
          select 'event ' || id || ' (' || count(*) || ' of them)' from outbox_event group by id having count(*) > 1`,
  },
  {
    name: 'sequences_past_max',
    rule: 'every id sequence is past the largest id in its table (else the next insert would collide)',
    sql: `select 'sequence ' || s.relname as id
            from pg_class s
            join pg_namespace n on n.oid = s.relnamespace
            join pg_depend d on d.classid = 'pg_class'::regclass and d.objid = s.oid and d.refclassid = 'pg_class'::regclass and d.deptype in ('a', 'i')
            join pg_class t on t.oid = d.refobjid
            join pg_attribute a on a.attrelid = t.oid and a.attnum = d.refobjsubid
            join pg_sequences ps on ps.schemaname = n.nspname and ps.sequencename = s.relname
            cross join lateral (select (xpath('/row/m/text()', query_to_xml(format('select max(%I) as m from %I.%I', a.attname, n.nspname, t.relname), false, true, '')))[1]::text::numeric as m) mx
           where s.relkind = 'S' and n.nspname = 'public' and mx.m > coalesce(ps.last_value, 0)`,
  },
  {
    name: 'migrations_applied',
    rule: "the migrations applied are exactly this ascend's",
    sql: `select 'missing ' || m as id from unnest(?::text[]) as m where not exists (select 1 from mikro_orm_migrations x where x.name = m)
          union all
          select 'unknown ' || name from mikro_orm_migrations where name <> all(?::text[])`,
    params: () => [knownMigrations(), knownMigrations()],
  },
  ...WAITLIST_INVARIANTS,
];

export interface InvariantResult {
  name: string;
  rule: string;
  violations: number;
  /** The first few offending records. */
  examples: string[];
}

export interface VerifyReport {
  ok: boolean;
  ms: number;
  invariants: InvariantResult[];
}

const EXAMPLES = 5;

/** Runs every invariant on `sql` inside one read-only snapshot (which this opens and rolls back). */
export async function verifyOn(sql: Sql, invariants: readonly Invariant[] = INVARIANTS): Promise<VerifyReport> {
  const started = performance.now();
  await sql.query('begin isolation level repeatable read read only');
  try {
    const results: InvariantResult[] = [];
    for (const invariant of invariants) {
      const [row] = await sql.query<{ n: string; examples: string[] | null }>(
        `with v as (${invariant.sql})
         select count(*) as n, (select array_agg(id) from (select id from v order by id limit ${EXAMPLES}) e) as examples from v`,
        invariant.params?.() ?? [],
      );
      results.push({ name: invariant.name, rule: invariant.rule, violations: Number(row?.n ?? 0), examples: row?.examples ?? [] });
    }
    return { ok: results.every((r) => r.violations === 0), ms: Math.round(performance.now() - started), invariants: results };
  } finally {
    await sql.query('rollback').catch(() => undefined);
  }
}

/** Verifies the database at `url` on a connection of its own. */
export async function verifyDatabase(url: string): Promise<VerifyReport> {
  const sql = await connectSql(url);
  try {
    return await verifyOn(sql);
  } finally {
    await sql.close();
  }
}

/** The violations in one line: each broken invariant with its count and first records. */
export function violationsLine(report: VerifyReport): string {
  const broken = report.invariants.filter((r) => r.violations > 0);
  const each = broken.map((r) => `${r.name}: ${r.violations} (${r.examples.join(', ')}${r.violations > r.examples.length ? ', …' : ''})`);
  return `${broken.length} of ${report.invariants.length} invariants do not hold: ${each.join('; ')}`;
}
