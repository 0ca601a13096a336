// The booking core (src/services/booking): one definition of the rules, used by every way of taking a place.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, type DomainError, NotFoundError } from '../../src/domain/errors.js';
import { fixedClock } from '../../src/domain/clock.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { bookAppointment, rescheduleAppointment } from '../../src/services/appointments.js';
import { bookingRefusal, bookLocked, lockSlotForBooking, lockSlotsForBooking } from '../../src/services/booking/core.js';
import { BOOKING_RULES } from '../../src/services/booking/rules.js';
import { addLeave } from '../../src/services/doctors.js';
import { transaction } from '../../src/services/locks.js';
import { deleteSlot } from '../../src/services/slots.js';
import { deactivateUser } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedSlot, slotCountsAreConsistent } from '../support/fixtures.js';
import { utc } from '../support/clock.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  expect(await slotCountsAreConsistent(db)).toBe(true);
  await db.drop();
});

let days = 0;
/** A fresh start each call, on the next day after the frozen today not used yet (04:00 UTC: the same date in the clinics' zone, Asia/Kolkata). */
const nextStart = () => utc(++days, '04:00');
const plus = (iso: string, minutes: number) => new Date(Date.parse(iso) + minutes * 60_000).toISOString();

const ruleNamed = (name: string) => {
  const rule = BOOKING_RULES.find((r) => r.name === name);
  if (!rule) throw new Error(`no booking rule ${name}`);
  return rule;
};

/** What a user would be told: the error's type, field and message. */
const told = (err: unknown) => {
  const e = err as DomainError;
  return { type: e?.constructor?.name, field: e?.field, message: e?.message };
};

/** A doctor in a clinic of their own (what happens to one case's doctor touches no other case). */
async function aDoctor(maxPatientsPerDay?: number) {
  const clinic = await makeClinic(db);
  return (await makeDoctor(db, clinic.id, { maxPatientsPerDay })).doctor;
}

/**
 * A patient with a booked appointment ("home") far from the slot under test, to reschedule from: the same
 * slot refused to a booking must be refused, in the same words, to that reschedule.
 */
async function aPatientWithAHome(homeSlot: number) {
  const { patient } = await makePatient(db);
  const home = await bookAppointment(db.ctx(SYSTEM), { slotId: homeSlot, patientId: patient.id });
  return { patientId: patient.id, patientUserId: patient.userId, home: home.id };
}

interface Case {
  /** The rule (of BOOKING_RULES, or the two refusals outside them) the situation breaks. */
  rule: string;
  label: string;
  /**
   * Builds the situation: the slot to book, the patient and their home appointment; and the refusal expected,
   * unless it is the rule's own with `detail` (what it names: an id, a count).
   */
  arrange: (homeSlot: number) => Promise<{ slotId: number; patientId: number; home: number; detail?: string; expected?: DomainError }>;
}

const CASES: Case[] = [
  {
    rule: 'slot-missing',
    label: 'a slot that does not exist',
    arrange: async (homeSlot) => {
      const p = await aPatientWithAHome(homeSlot);
      return { slotId: 99_999_999, ...p, expected: new NotFoundError('slot', 99_999_999, 'slotId') };
    },
  },
  {
    rule: 'slot-deleted',
    label: 'a deleted slot',
    arrange: async (homeSlot) => {
      const slotId = await seedSlot(db, (await aDoctor()).id, nextStart());
      await deleteSlot(db.ctx(SYSTEM), slotId);
      const p = await aPatientWithAHome(homeSlot);
      return { slotId, ...p };
    },
  },
  {
    rule: 'slot-started',
    label: 'a slot that has started',
    arrange: async (homeSlot) => {
      const doctor = await aDoctor();
      const [row] = await db.sql<{ id: number }>(
        `insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity) values ($1, $2, $3::timestamptz - interval '5 minutes', $3::timestamptz + interval '15 minutes', 3) returning id`,
        [doctor.id, doctor.clinicId, db.clock.now()],
      );
      const slotId = row?.id ?? 0;
      const p = await aPatientWithAHome(homeSlot);
      return { slotId, ...p };
    },
  },
  {
    rule: 'slot-full',
    label: 'a full slot',
    arrange: async (homeSlot) => {
      const slotId = await seedSlot(db, (await aDoctor()).id, nextStart(), 20, 1);
      await bookAppointment(db.ctx(SYSTEM), { slotId, patientId: (await makePatient(db)).patient.id });
      const p = await aPatientWithAHome(homeSlot);
      return { slotId, ...p, detail: '1/1' };
    },
  },
  // Deactivating a doctor closes their future slots (the rule slot-deleted then refuses first), and a clinic
  // with active doctors cannot be deactivated: this rule backs them up, so the state is written directly.
  ...(['doctor', 'clinic'] as const).map(
    (table): Case => ({
      rule: 'doctor-or-clinic-inactive',
      label: `a slot whose ${table} is deactivated`,
      arrange: async (homeSlot) => {
        const doctor = await aDoctor();
        const slotId = await seedSlot(db, doctor.id, nextStart());
        await db.sql(`update ${table} set is_active = false where id = $1`, [table === 'doctor' ? doctor.id : doctor.clinicId]);
        return { slotId, ...(await aPatientWithAHome(homeSlot)) };
      },
    }),
  ),
  {
    rule: 'doctor-on-leave',
    label: 'a slot while its doctor is on leave',
    arrange: async (homeSlot) => {
      const doctor = await aDoctor();
      const start = nextStart();
      const slotId = await seedSlot(db, doctor.id, start);
      const leave = await addLeave(db.ctx(SYSTEM), doctor.id, { from: start.slice(0, 10), to: start.slice(0, 10) });
      const p = await aPatientWithAHome(homeSlot);
      return { slotId, ...p, detail: String(leave.id) };
    },
  },
  {
    rule: 'patient-inactive',
    label: 'a deactivated patient',
    arrange: async (homeSlot) => {
      const slotId = await seedSlot(db, (await aDoctor()).id, nextStart());
      const p = await aPatientWithAHome(homeSlot);
      await deactivateUser(db.ctx(SYSTEM), p.patientUserId);
      return { slotId, ...p };
    },
  },
  {
    rule: 'patient-holds-slot',
    label: 'a slot the patient already holds (by another appointment)',
    arrange: async (homeSlot) => {
      const slotId = await seedSlot(db, (await aDoctor()).id, nextStart(), 20, 3);
      const p = await aPatientWithAHome(homeSlot);
      const held = await bookAppointment(db.ctx(SYSTEM), { slotId, patientId: p.patientId });
      return { slotId, ...p, detail: String(held.id) };
    },
  },
  {
    rule: 'patient-busy-then',
    label: 'a slot overlapping another appointment of the patient',
    arrange: async (homeSlot) => {
      const start = nextStart();
      const slotId = await seedSlot(db, (await aDoctor()).id, start, 30, 3);
      const elsewhere = await seedSlot(db, (await aDoctor()).id, plus(start, 10), 30, 3);
      const p = await aPatientWithAHome(homeSlot);
      const busy = await bookAppointment(db.ctx(SYSTEM), { slotId: elsewhere, patientId: p.patientId });
      return { slotId, ...p, detail: String(busy.id) };
    },
  },
  {
    // Not a guard: the deferred trigger appointment_doctor_day_max settles it at commit (bookingRefusal's words).
    rule: 'daily-maximum',
    label: "a slot on a day the doctor's daily maximum is reached",
    arrange: async (homeSlot) => {
      const doctor = await aDoctor(1);
      const start = nextStart();
      const first = await seedSlot(db, doctor.id, start, 20, 3);
      const slotId = await seedSlot(db, doctor.id, plus(start, 60), 20, 3);
      await bookAppointment(db.ctx(SYSTEM), { slotId: first, patientId: (await makePatient(db)).patient.id });
      const p = await aPatientWithAHome(homeSlot);
      return { slotId, ...p, expected: new ConflictError(`the doctor is fully booked on ${start.slice(0, 10)} (1 appointments a day)`, 'slotId') };
    },
  },
];

describe('every refusal, through booking and rescheduling', () => {
  it('each rule refuses a booking and a reschedule into the slot with the same error type, field and message, and changes nothing', async () => {
    const homeDoctor = await aDoctor(200);
    const homeSlot = await seedSlot(db, homeDoctor.id, utc(400, '04:00'), 30, 100);
    for (const c of CASES) {
      const { slotId, patientId, home, detail, expected = ruleNamed(c.rule).refuse({ slotId, patientId, detail: detail ?? null }) } = await c.arrange(homeSlot);
      const counts = await db.sql('select id, booked_count from slot order by id');
      const booking = await bookAppointment(db.ctx(SYSTEM), { slotId, patientId }).catch((e: unknown) => e);
      const rescheduling = await rescheduleAppointment(db.ctx(SYSTEM), home, { slotId }).catch((e: unknown) => e);
      expect(told(booking), `${c.label}: booking`).toEqual(told(expected));
      expect(told(rescheduling), `${c.label}: rescheduling`).toEqual(told(expected));
      expect(await db.sql('select id, booked_count from slot order by id'), c.label).toEqual(counts);
      expect(await db.sql('select slot_id, status from appointment where id = $1', [home]), c.label).toEqual([{ slot_id: homeSlot, status: 'booked' }]);
    }
  });

  it('the cases above (and the missing patient below) cover every rule of the one definition, and the refusals outside it', () => {
    const covered = new Set([...CASES.map((c) => c.rule), 'patient-missing']);
    expect([...covered].sort()).toEqual([...BOOKING_RULES.map((r) => r.name), 'daily-maximum', 'slot-missing'].sort());
  });

  it('a patient that does not exist is refused by the core whether it books or moves an appointment in (a reschedule cannot name one)', async () => {
    const slotId = await seedSlot(db, (await aDoctor()).id, nextStart());
    const homeSlot = await seedSlot(db, (await aDoctor()).id, nextStart());
    const p = await aPatientWithAHome(homeSlot);
    const missing = 99_999_999;
    const expected = told(ruleNamed('patient-missing').refuse({ slotId, patientId: missing, detail: null }));
    const viaService = await bookAppointment(db.ctx(SYSTEM), { slotId, patientId: missing }).catch((e: unknown) => e);
    expect(told(viaService)).toEqual(expected);
    const viaCore = await transaction(db.ctx(SYSTEM), async (tx) => {
      const slot = await lockSlotForBooking(tx.em, slotId);
      if (!slot) throw new Error('the slot was just made');
      return bookLocked(tx, slot, missing, { moving: { appointmentId: p.home, fromSlotId: homeSlot } });
    }).catch((e: unknown) => e);
    expect(told(viaCore)).toEqual(expected);
  });
});

describe('the core inside a caller’s transaction', () => {
  it('books several places in one transaction (slots locked in id order); a refusal of one undoes them all', async () => {
    const doctor = await aDoctor();
    const start = nextStart();
    const slots = [await seedSlot(db, doctor.id, start, 20, 3), await seedSlot(db, doctor.id, plus(start, 20), 20, 3)];
    const { patient } = await makePatient(db);
    const booked = await transaction(db.ctx(SYSTEM), async (tx) => {
      const locked = await lockSlotsForBooking(tx.em, [...slots].reverse());
      expect([...locked.keys()]).toEqual(slots);
      const places = [];
      for (const slot of locked.values()) places.push(await bookLocked(tx, slot, patient.id, { reason: 'series' }));
      return places;
    });
    expect(booked.map((b) => [b.slotId, b.patientId, b.reason, b.createdAt.getTime()])).toEqual(
      slots.map((s) => [s, patient.id, 'series', booked[0]?.createdAt.getTime()]),
    );
    expect(await db.sql('select booked_count from slot where id = any($1) order by id', [slots])).toEqual([{ booked_count: 1 }, { booked_count: 1 }]);

    // A second patient: the first place is taken, then the second is refused (this patient already holds it).
    const { patient: other } = await makePatient(db);
    const second = slots[1] ?? 0;
    await bookAppointment(db.ctx(SYSTEM), { slotId: second, patientId: other.id });
    const refused = await transaction(db.ctx(SYSTEM), async (tx) => {
      const locked = await lockSlotsForBooking(tx.em, slots);
      for (const slot of locked.values()) await bookLocked(tx, slot, other.id, {});
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConflictError);
    expect((refused as Error).message).toMatch(new RegExp(`^patient ${other.id} already holds slot ${second}`));
    expect(await db.sql('select booked_count from slot where id = any($1) order by id', [slots])).toEqual([{ booked_count: 1 }, { booked_count: 2 }]);
    expect(await db.sql('select count(*)::int as n from appointment where patient_id = $1', [other.id])).toEqual([{ n: 1 }]);
  });

  it("refuses by the clock it is given, not the machine's: a slot is started once the context's now has passed its start", async () => {
    const start = nextStart();
    const slotId = await seedSlot(db, (await aDoctor()).id, start);
    const { patient } = await makePatient(db);
    const afterTheStart = { ...db.ctx(SYSTEM), clock: fixedClock(new Date(plus(start, 1))) };
    const refused = await transaction(afterTheStart, async (tx) => {
      const slot = await lockSlotForBooking(tx.em, slotId);
      if (!slot) throw new Error('the slot was just made');
      return bookLocked(tx, slot, patient.id, {});
    }).catch((e: unknown) => e);
    expect(told(refused)).toEqual(told(ruleNamed('slot-started').refuse({ slotId, patientId: patient.id, detail: null })));
  });

  it("the doctor's daily maximum refuses at the caller's commit; bookingRefusal gives it the booking's words", async () => {
    const doctor = await aDoctor(1);
    const start = nextStart();
    const slots = [await seedSlot(db, doctor.id, start), await seedSlot(db, doctor.id, plus(start, 60))];
    const { patient: a } = await makePatient(db);
    const { patient: b } = await makePatient(db);
    const err = await transaction(db.ctx(SYSTEM), async (tx) => {
      const locked = await lockSlotsForBooking(tx.em, slots);
      const [first, second] = [...locked.values()];
      if (!first || !second) throw new Error('the slots were just made');
      await bookLocked(tx, first, a.id, {});
      await bookLocked(tx, second, b.id, {}); // accepted here: counted at commit
    }).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(ConflictError);
    expect(told(bookingRefusal(err))).toEqual(told(new ConflictError(`the doctor is fully booked on ${start.slice(0, 10)} (1 appointments a day)`, 'slotId')));
    expect(await db.sql('select count(*)::int as n from appointment where doctor_id = $1', [doctor.id])).toEqual([{ n: 0 }]);
  });
});
