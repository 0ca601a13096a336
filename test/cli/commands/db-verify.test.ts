// `ascend db verify`: every invariant the schema keeps, checked against the data. Each case builds a consistent
// database through the real services, breaks ONE invariant by hand (turning off, in its own database, the guard
// that would have refused it), and expects exit 4 naming that invariant and the record.
import { afterAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../../src/domain/roles.js';
import { bookAppointment, cancelAppointment, rescheduleAppointment } from '../../../src/services/appointments.js';
import { INVARIANTS } from '../../../src/services/verify.js';
import { joinWaitlist } from '../../../src/services/waitlist/entries.js';
import { cliFor, refused } from '../../support/cli.js';
import { utc } from '../../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedSlot } from '../../support/fixtures.js';

const opened: TestDatabase[] = [];
afterAll(async () => {
  for (const db of opened) await db.drop();
});

interface Report {
  ok: boolean;
  invariants: { name: string; violations: number; examples: string[] }[];
}

/**
 * A database in use and consistent: two doctors, back-to-back slots, bookings made by the services (one a
 * longer visit, one cancelled, one rescheduled), each with its audit event and outbox event, and the cancelled
 * place held for a patient on the waitlist.
 */
async function consistentDatabase() {
  const db = await createTestDatabase();
  opened.push(db);
  const clinic = await makeClinic(db);
  const { doctor } = await makeDoctor(db, clinic.id, { maxPatientsPerDay: 5 });
  const { doctor: other } = await makeDoctor(db, clinic.id);
  const slots: number[] = [];
  for (let i = 0; i < 6; i++) slots.push(await seedSlot(db, doctor.id, new Date(Date.parse(utc(1, '04:00')) + i * 20 * 60_000).toISOString(), 20, 2));
  const otherSlot = await seedSlot(db, other.id, utc(1, '04:00'));
  const slot = (i: number) => slots[i] ?? 0;
  const p1 = await makePatient(db);
  const p2 = await makePatient(db);
  const p3 = await makePatient(db);
  const first = await bookAppointment(db.ctx(p1.actor), { slotId: slot(0) });
  const visit = await bookAppointment(db.ctx(SYSTEM), { slotId: slot(2), slots: 2, patientId: p2.patient.id });
  const cancelled = await bookAppointment(db.ctx(p3.actor), { slotId: slot(4) });
  // A patient waiting for the doctor: the cancellation's place is offered to them and held.
  const waiting = await makePatient(db);
  const entry = await joinWaitlist(db.ctx(waiting.actor), { doctorId: doctor.id, from: 'today', to: '+7d' });
  await cancelAppointment(db.ctx(SYSTEM), cancelled.id);
  const [offer] = await db.sql<{ id: number }>(`select id from waitlist_offer where entry_id = $1 and status = 'open'`, [entry.id]);
  if (!offer) throw new Error('the cancelled place was not offered to the waiting patient');
  const moved = await bookAppointment(db.ctx(p3.actor), { slotId: slot(5) });
  await rescheduleAppointment(db.ctx(SYSTEM), moved.id, { slotId: slot(1) });
  return { db, clinic, doctor, other, slots, otherSlot, patients: [p1, p2, p3], first, visit, cancelled, moved, entry, offer };
}

type World = Awaited<ReturnType<typeof consistentDatabase>>;

async function verify(db: TestDatabase) {
  return cliFor(db.url).run(['db', 'verify', '--json']);
}

/** Runs `sql` with every user trigger off (the deferred checks, the append-only guard), as a restore might. */
const asReplica = (db: TestDatabase, sql: string, params: unknown[] = []) =>
  db.sql(`begin; set local session_replication_role = replica; ${sql}; commit;`.replace(/\$(\d)/g, (_m, n) => String(params[Number(n) - 1])));

/**
 * A booking written by hand with every trigger off, complete as the booking service writes one (the slot's
 * count, its audit event and outbox event), so that only the rule the case turned off is broken.
 */
async function handBooking(db: TestDatabase, slotId: number, patientId: number): Promise<number> {
  await asReplica(
    db,
    `insert into appointment (slot_id, patient_id, doctor_id, clinic_id, starts_at, ends_at)
       select id, ${patientId}, doctor_id, clinic_id, starts_at, ends_at from slot where id = ${slotId};
     update slot set booked_count = booked_count + 1 where id = ${slotId};
     insert into audit_event (at, action, entity, entity_id) select '${db.clock.now().toISOString()}', 'appointment.book', 'appointment', max(id)::text from appointment;
     insert into outbox_event (id, type, at, appointment_id, data)
       select 'evt_' || md5(random()::text), 'appointment.booked', '${db.clock.now().toISOString()}', max(id), '{}' from appointment`,
  );
  const [row] = await db.sql<{ id: number }>('select max(id) as id from appointment');
  return row?.id ?? 0;
}

/** Exit 4, the one error line naming the invariant, and the --json report counting exactly what was broken. */
async function expectBroken(db: TestDatabase, name: string, examples: string[]) {
  const result = await verify(db);
  expect(result.code, result.stderr).toBe(4);
  const report: Report = result.json();
  expect(report.ok).toBe(false);
  const broken = report.invariants.filter((r) => r.violations > 0).map((r) => ({ name: r.name, examples: r.examples }));
  expect(broken).toEqual([{ name, examples }]);
  const line = JSON.parse(result.stderr).error.message as string;
  expect(line).toBe(`1 of ${INVARIANTS.length} invariants do not hold: ${name}: ${examples.length} (${examples.join(', ')})`);
}

describe('ascend db verify', () => {
  it('exits 0 on a consistent database in use (bookings, a longer visit, a cancellation, a reschedule) and lists every invariant as holding', async () => {
    const { db } = await consistentDatabase();
    const result = await verify(db);
    expect(result.code, result.stderr).toBe(0);
    const report: Report = result.json();
    expect(report.ok).toBe(true);
    expect(report.invariants.map((r) => [r.name, r.violations])).toEqual(INVARIANTS.map((i) => [i.name, 0]));
    const text = await cliFor(db.url).run(['db', 'verify']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^✓ All ${INVARIANTS.length} invariants hold \\(\\d+ ms\\)\\n$`));
  });

  const cases: { name: string; break: (w: World) => Promise<string[]> }[] = [
    {
      name: 'slot_booked_count',
      break: async ({ db, slots }) => {
        await asReplica(db, 'update slot set booked_count = 0 where id = $1', [slots[0]]);
        return [`slot ${slots[0]}`];
      },
    },
    {
      name: 'slot_capacity',
      break: async ({ db, otherSlot }) => {
        // Two live bookings (of two patients free then) in a slot of capacity 1, its count kept equal to them.
        await db.sql('alter table slot drop constraint slot_booked_within_capacity');
        await bookAppointment(db.ctx(SYSTEM), { slotId: otherSlot, patientId: (await makePatient(db)).patient.id });
        await handBooking(db, otherSlot, (await makePatient(db)).patient.id);
        return [`slot ${otherSlot}`];
      },
    },
    {
      name: 'patient_no_overlap',
      break: async ({ db, otherSlot, first }) => {
        // The first booking's patient again, at the same time with another doctor.
        await db.sql('alter table appointment drop constraint appointment_patient_no_overlap');
        const again = await handBooking(db, otherSlot, first.patientId);
        return [`appointment ${Math.max(first.id, again)}`];
      },
    },
    {
      name: 'doctor_slots_no_overlap',
      break: async ({ db, doctor, slots }) => {
        await db.sql('alter table slot drop constraint slot_no_overlap');
        // 04:05–04:15, inside the doctor's first slot (04:00–04:20) only.
        const overlapping = await seedSlot(db, doctor.id, new Date(Date.parse(utc(1, '04:00')) + 5 * 60_000).toISOString(), 10);
        expect(overlapping).toBeGreaterThan(slots[0] ?? 0);
        return [`slot ${overlapping}`];
      },
    },
    {
      name: 'doctor_day_max',
      break: async ({ db, doctor }) => {
        // Three live appointments that day (the first, the visit, the rescheduled one; the cancelled one is not).
        await db.sql('update doctor set max_patients_per_day = 2 where id = $1', [doctor.id]);
        const [clinicDay] = await db.sql<{ day: string }>(
          `select to_char((starts_at at time zone c.timezone)::date, 'YYYY-MM-DD') as day from appointment a join clinic c on c.id = a.clinic_id where a.doctor_id = $1 limit 1`,
          [doctor.id],
        );
        return [`doctor ${doctor.id} on ${clinicDay?.day}`];
      },
    },
    {
      name: 'patient_user_has_record',
      break: async ({ db, doctor }) => {
        await asReplica(db, `update "user" set role = 'patient' where id = $1`, [doctor.userId]);
        return [`user ${doctor.userId}`];
      },
    },
    {
      name: 'audit_append_only',
      break: async ({ db }) => {
        await db.sql('alter table audit_event disable trigger audit_event_append_only');
        return ['trigger audit_event_append_only'];
      },
    },
    {
      name: 'audit_gap_free',
      break: async ({ db, first }) => {
        // The booking's audit row removed: the appointment lacks it, and so does the event made from it.
        await asReplica(db, `delete from audit_event where entity = 'appointment' and entity_id = '${first.id}'`);
        const [event] = await db.sql<{ id: string }>(`select id from outbox_event where appointment_id = $1`, [first.id]);
        return [`appointment ${first.id}`, `event ${event?.id}`];
      },
    },
    {
      name: 'outbox_event_for_change',
      break: async ({ db, visit }) => {
        const [audit] = await db.sql<{ id: string }>(`select id from audit_event where entity = 'appointment' and entity_id = $1`, [String(visit.id)]);
        await db.sql('delete from outbox_event where appointment_id = $1', [visit.id]);
        return [`audit_event ${audit?.id}`];
      },
    },
    {
      name: 'outbox_event_shape',
      break: async ({ db, first }) => {
        // A second event with the first booking's event id, and one whose type and data are not an event's.
        const [event] = await db.sql<{ id: string }>('select id from outbox_event where appointment_id = $1', [first.id]);
        await db.sql(`insert into outbox_event (id, type, at, data) select id, type, at, data from outbox_event where id = $1`, [event?.id]);
        await db.sql(`insert into outbox_event (id, type, at, data) values ('evt_ffffffffffffffffffffffffffffffff', 'Not A Type', now(), '[]')`);
        return [`event ${event?.id} (2 of them)`, 'event evt_ffffffffffffffffffffffffffffffff'];
      },
    },
    {
      name: 'sequences_past_max',
      break: async ({ db }) => {
        await db.sql(`select setval('slot_id_seq', 1)`);
        return ['sequence slot_id_seq'];
      },
    },
    {
      name: 'migrations_applied',
      break: async ({ db }) => {
        await db.sql(`insert into mikro_orm_migrations (name, executed_at) values ('Migration20991231000000_from_elsewhere', now())`);
        await db.sql(`delete from mikro_orm_migrations where name = 'Migration20261125010000_search_indexes'`);
        return ['missing Migration20261125010000_search_indexes', 'unknown Migration20991231000000_from_elsewhere'];
      },
    },
    {
      name: 'slot_held_count',
      break: async ({ db, slots }) => {
        await asReplica(db, 'update slot set held_count = 0 where id = $1', [slots[4]]);
        return [`slot ${slots[4]}`];
      },
    },
    {
      name: 'waitlist_entry_offered',
      break: async ({ db, entry }) => {
        await asReplica(db, `update waitlist_entry set status = 'waiting' where id = $1`, [entry.id]);
        return [`waitlist entry ${entry.id}`];
      },
    },
    {
      name: 'waitlist_offer_patient',
      break: async ({ db, offer, patients }) => {
        await asReplica(db, 'update waitlist_offer set patient_id = $1 where id = $2', [patients[0]?.patient.id, offer.id]);
        return [`waitlist offer ${offer.id}`];
      },
    },
    {
      name: 'waitlist_offer_accepted',
      break: async ({ db, offer, entry, slots }) => {
        // Accepted, its entry fulfilled and its hold let go, but no appointment booked.
        await asReplica(
          db,
          `update waitlist_offer set status = 'accepted', closed_at = now() where id = $1;
           update waitlist_entry set status = 'fulfilled' where id = $2;
           update slot set held_count = 0 where id = $3`,
          [offer.id, entry.id, slots[4]],
        );
        return [`waitlist offer ${offer.id}`];
      },
    },
  ];

  it('has a case below for every invariant it checks', () => {
    expect(cases.map((c) => c.name).sort()).toEqual(INVARIANTS.map((i) => i.name).sort());
  });

  // Each case has a database of its own: they run side by side.
  for (const c of cases) {
    it.concurrent(`exits 4 naming ${c.name} and the record that breaks it`, async () => {
      const world = await consistentDatabase();
      const examples = await c.break(world);
      await expectBroken(world.db, c.name, examples);
    });
  }

  it('says each broken invariant on one line without --json, nothing on stdout', async () => {
    const { db, slots } = await consistentDatabase();
    await asReplica(db, 'update slot set booked_count = 0 where id = $1', [slots[0]]);
    await db.sql(`select setval('slot_id_seq', 1)`);
    const result = await cliFor(db.url).run(['db', 'verify']);
    refused(
      result,
      4,
      `2 of ${INVARIANTS.length} invariants do not hold: slot_booked_count: 1 (slot ${slots[0]}); sequences_past_max: 1 (sequence slot_id_seq)`,
    );
  });
});
