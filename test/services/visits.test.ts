// Longer visits: several consecutive slots of one doctor booked, cancelled, moved and finished as ONE
// appointment, all or nothing, through the booking core; the database keeps every slot's count and the run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, type DomainError, NotFoundError, SlotFullError, ValidationError } from '../../src/domain/errors.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { bookAppointment, cancelAppointment, completeAppointment, getAppointment, rescheduleAppointment } from '../../src/services/appointments.js';
import { addLeave } from '../../src/services/doctors.js';
import { deleteSlot } from '../../src/services/slots.js';
import { utc } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { freedWhile, makeClinic, makeDoctor, makePatient, seedSlot, slotCountsAreConsistent } from '../support/fixtures.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  expect(await slotCountsAreConsistent(db)).toBe(true);
  await db.drop();
});

let days = 0;
/** A fresh morning each call (04:00 UTC, 09:30 in the clinics' zone), a day after the last. */
const nextStart = () => utc(++days, '04:00');
const plus = (iso: string, minutes: number) => new Date(Date.parse(iso) + minutes * 60_000).toISOString();

async function aDoctor(maxPatientsPerDay?: number) {
  const clinic = await makeClinic(db);
  return (await makeDoctor(db, clinic.id, { maxPatientsPerDay })).doctor;
}

/** `n` back-to-back 20-minute slots of the doctor from `start`. */
async function aRun(doctorId: number, n: number, start = nextStart(), capacity = 1): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push(await seedSlot(db, doctorId, plus(start, 20 * i), 20, capacity));
  return ids;
}

const counts = async (ids: readonly number[]) =>
  (await db.sql<{ id: number; booked_count: number }>('select id, booked_count from slot where id = any($1::int[]) order by id', [ids])).map(
    (r) => r.booked_count,
  );

/** What a user would be told: the error's type, field and message. */
const told = (err: unknown) => {
  const e = err as DomainError;
  return { type: e?.constructor?.name, field: e?.field, message: e?.message };
};

async function aPatient() {
  return (await makePatient(db)).patient.id;
}

describe('booking a longer visit', () => {
  it('books three consecutive slots as one appointment from the first start to the last end, each slot counted once, audited once', async () => {
    const doctor = await aDoctor();
    const start = nextStart();
    const run = await aRun(doctor.id, 3, start);
    const patientId = await aPatient();
    const visit = await bookAppointment(db.ctx(SYSTEM), { slotId: run[0] ?? 0, slots: 3, patientId, reason: 'long check-up' });
    expect(visit).toMatchObject({ slotId: run[0], slotIds: run, slots: 3, startsAt: start, endsAt: plus(start, 60), status: 'booked' });
    expect(await getAppointment(db.ctx(SYSTEM), visit.id)).toEqual(visit);
    expect(await counts(run)).toEqual([1, 1, 1]);
    expect(await db.sql('select count(*)::int as n from appointment where patient_id = $1', [patientId])).toEqual([{ n: 1 }]);
    const events = await db.sql<{ after: Record<string, unknown> }>(`select after from audit_event where action = 'appointment.book' and entity_id = $1`, [
      String(visit.id),
    ]);
    expect(events).toHaveLength(1);
    expect(events[0]?.after).toMatchObject({ slotId: run[0], slotIds: run, slots: 3, patientId, status: 'booked' });
  });

  it('books one slot as before when slots is 1 or left out: slotIds holds that slot alone', async () => {
    const doctor = await aDoctor();
    const [slotId = 0] = await aRun(doctor.id, 1);
    const a = await bookAppointment(db.ctx(SYSTEM), { slotId, slots: 1, patientId: await aPatient() });
    expect(a).toMatchObject({ slotId, slotIds: [slotId], slots: 1 });
  });

  it('refuses a length outside 1–8 naming the field slots', async () => {
    const [slotId = 0] = await aRun((await aDoctor()).id, 1);
    for (const slots of [0, 9, 2.5]) {
      const err = await bookAppointment(db.ctx(SYSTEM), { slotId, slots, patientId: await aPatient() }).catch((e: unknown) => e);
      expect(err, String(slots)).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).issues.map((i) => i.field)).toEqual(['slots']);
    }
  });
});

describe('all or nothing', () => {
  /** Books `slots` from `run[0]` and expects `expected`, with no count, appointment or audit event changed. */
  async function refusedWholly(run: number[], patientId: number, expected: DomainError) {
    const before = await counts(run);
    const appointments = await db.sql('select count(*)::int as n from appointment');
    const events = await db.sql('select count(*)::int as n from audit_event');
    const err = await bookAppointment(db.ctx(SYSTEM), { slotId: run[0] ?? 0, slots: run.length, patientId }).catch((e: unknown) => e);
    expect(told(err)).toEqual(told(expected));
    expect(await counts(run)).toEqual(before);
    expect(await db.sql('select count(*)::int as n from appointment')).toEqual(appointments);
    expect(await db.sql('select count(*)::int as n from audit_event')).toEqual(events);
  }

  it('refuses the whole visit when its third slot is full, naming that slot', async () => {
    const run = await aRun((await aDoctor()).id, 3);
    const third = run[2] ?? 0;
    await bookAppointment(db.ctx(SYSTEM), { slotId: third, patientId: await aPatient() });
    await refusedWholly(run, await aPatient(), new SlotFullError(`slot ${third} is full (1/1)`, 'slotId'));
  });

  it('refuses slots that are not consecutive (a gap after the second), naming the slot the run breaks after', async () => {
    const doctor = await aDoctor();
    const start = nextStart();
    const run = await aRun(doctor.id, 2, start);
    await seedSlot(db, doctor.id, plus(start, 50)); // ten minutes after the second ends
    const patientId = await aPatient();
    const err = await bookAppointment(db.ctx(SYSTEM), { slotId: run[0] ?? 0, slots: 3, patientId }).catch((e: unknown) => e);
    expect(told(err)).toEqual(
      told(
        new ConflictError(`a visit of 3 slots needs 3 consecutive slots of one doctor: no active slot of the doctor starts when slot ${run[1]} ends`, 'slots'),
      ),
    );
    expect(await counts(run)).toEqual([0, 0]);
  });

  it("refuses a run continued by another doctor's slot: a visit is one doctor's", async () => {
    const doctor = await aDoctor();
    const start = nextStart();
    const run = await aRun(doctor.id, 2, start);
    const other = await seedSlot(db, (await aDoctor()).id, plus(start, 40));
    const err = await bookAppointment(db.ctx(SYSTEM), { slotId: run[0] ?? 0, slots: 3, patientId: await aPatient() }).catch((e: unknown) => e);
    expect(told(err)).toMatchObject({ type: 'ConflictError', field: 'slots' });
    expect(await counts([...run, other])).toEqual([0, 0, 0]);
  });

  it('refuses the whole visit when the doctor is on leave during its third slot, naming that slot and the leave', async () => {
    const doctor = await aDoctor();
    const start = nextStart();
    const run = await aRun(doctor.id, 3, start);
    const leave = await addLeave(db.ctx(SYSTEM), doctor.id, { from: plus(start, 40), to: plus(start, 60) });
    await refusedWholly(run, await aPatient(), new ConflictError(`slot ${run[2]} is not available: the doctor is on leave then (leave ${leave.id})`, 'slotId'));
  });

  it('refuses the whole visit when the patient has another appointment during its third slot', async () => {
    const start = nextStart();
    const run = await aRun((await aDoctor()).id, 3, start);
    const patientId = await aPatient();
    const elsewhere = await seedSlot(db, (await aDoctor()).id, plus(start, 45), 30);
    const busy = await bookAppointment(db.ctx(SYSTEM), { slotId: elsewhere, patientId });
    await refusedWholly(run, patientId, new ConflictError(`patient ${patientId} already has appointment ${busy.id} at that time`, 'slotId'));
  });

  it('refuses a first slot that does not exist as not found', async () => {
    const err = await bookAppointment(db.ctx(SYSTEM), { slotId: 99_999_999, slots: 3, patientId: await aPatient() }).catch((e: unknown) => e);
    expect(told(err)).toEqual(told(new NotFoundError('slot', 99_999_999, 'slotId')));
  });
});

describe('counting', () => {
  it('counts a visit in every slot it takes: two visits fill a run of capacity 2, and a third is refused on its first slot', async () => {
    const run = await aRun((await aDoctor()).id, 3, nextStart(), 2);
    for (let i = 0; i < 2; i++) await bookAppointment(db.ctx(SYSTEM), { slotId: run[0] ?? 0, slots: 3, patientId: await aPatient() });
    expect(await counts(run)).toEqual([2, 2, 2]);
    const err = await bookAppointment(db.ctx(SYSTEM), { slotId: run[1] ?? 0, slots: 2, patientId: await aPatient() }).catch((e: unknown) => e);
    expect(told(err)).toEqual(told(new SlotFullError(`slot ${run[1]} is full (2/2)`, 'slotId')));
  });

  it("counts a visit once against the doctor's daily maximum (an appointment, however many slots)", async () => {
    const doctor = await aDoctor(2);
    const start = nextStart();
    const run = await aRun(doctor.id, 4, start);
    const later = await aRun(doctor.id, 2, plus(start, 120));
    await bookAppointment(db.ctx(SYSTEM), { slotId: run[0] ?? 0, slots: 4, patientId: await aPatient() });
    await bookAppointment(db.ctx(SYSTEM), { slotId: later[0] ?? 0, patientId: await aPatient() });
    const err = await bookAppointment(db.ctx(SYSTEM), { slotId: later[1] ?? 0, patientId: await aPatient() }).catch((e: unknown) => e);
    expect(told(err)).toEqual(told(new ConflictError(`the doctor is fully booked on ${start.slice(0, 10)} (2 appointments a day)`, 'slotId')));
  });

  it('the database refuses a slot counted twice for one visit, a run that is not consecutive, and a further slot not counted', async () => {
    const doctor = await aDoctor();
    const start = nextStart();
    const run = await aRun(doctor.id, 4, start, 3);
    const visit = await bookAppointment(db.ctx(SYSTEM), { slotId: run[0] ?? 0, slots: 2, patientId: await aPatient() });
    const refusal = async (sql: string) => {
      const err = await db.sql(`begin; ${sql}; commit;`).catch((e: { constraint?: string }) => e);
      await db.sql('rollback').catch(() => undefined);
      return (err as { constraint?: string }).constraint;
    };
    // The first slot again as a further one (counted, so only the run is wrong).
    expect(
      await refusal(
        `insert into appointment_slot values (${visit.id}, ${run[0]}, 3); update slot set booked_count = booked_count + 1 where id = ${run[0]}; update appointment set ends_at = ends_at + interval '20 minutes' where id = ${visit.id}`,
      ),
    ).toBe('appointment_visit_consecutive');
    // Skipping a slot: the fourth after the second.
    expect(
      await refusal(
        `insert into appointment_slot values (${visit.id}, ${run[3]}, 3); update slot set booked_count = booked_count + 1 where id = ${run[3]}; update appointment set ends_at = ends_at + interval '40 minutes' where id = ${visit.id}`,
      ),
    ).toBe('appointment_visit_consecutive');
    // The third slot joined without counting it.
    expect(
      await refusal(
        `insert into appointment_slot values (${visit.id}, ${run[2]}, 3); update appointment set ends_at = ends_at + interval '20 minutes' where id = ${visit.id}`,
      ),
    ).toBe('slot_booked_count_matches');
    // A slot of the visit changed under it.
    expect(await refusal(`update slot set ends_at = ends_at - interval '5 minutes' where id = ${run[1]}`)).toBe('appointment_visit_consecutive');
    expect(await counts(run)).toEqual([1, 1, 0, 0]);
  });
});

describe('cancel, reschedule, finish and delete treat a visit as one', () => {
  it('cancelling a visit frees every slot: one freed place per slot, with its times', async () => {
    const doctor = await aDoctor();
    const start = nextStart();
    const run = await aRun(doctor.id, 3, start);
    const visit = await bookAppointment(db.ctx(SYSTEM), { slotId: run[0] ?? 0, slots: 3, patientId: await aPatient() });
    const freed = await freedWhile(() => cancelAppointment(db.ctx(SYSTEM), visit.id, { reason: 'unwell' }));
    expect(freed.map((f) => [f.cause, f.appointmentId, f.slotId, f.startsAt.toISOString(), f.endsAt.toISOString()])).toEqual(
      run.map((slotId, i) => ['cancelled', visit.id, slotId, plus(start, 20 * i), plus(start, 20 * (i + 1))]),
    );
    expect(await counts(run)).toEqual([0, 0, 0]);
    expect(await getAppointment(db.ctx(SYSTEM), visit.id)).toMatchObject({ status: 'cancelled', slotIds: run, slots: 3 });
    // The places are free again: another patient takes the whole run.
    await bookAppointment(db.ctx(SYSTEM), { slotId: run[0] ?? 0, slots: 3, patientId: await aPatient() });
    expect(await counts(run)).toEqual([1, 1, 1]);
  });

  it('rescheduling moves every slot to a new run of the same length, freeing the old one', async () => {
    const doctor = await aDoctor();
    const old = await aRun(doctor.id, 3);
    const start = nextStart();
    const fresh = await aRun(doctor.id, 3, start);
    const visit = await bookAppointment(db.ctx(SYSTEM), { slotId: old[0] ?? 0, slots: 3, patientId: await aPatient() });
    const freed = await freedWhile(() => rescheduleAppointment(db.ctx(SYSTEM), visit.id, { slotId: fresh[0] ?? 0 }));
    expect(freed.map((f) => [f.cause, f.slotId])).toEqual(old.map((slotId) => ['rescheduled', slotId]));
    expect(await getAppointment(db.ctx(SYSTEM), visit.id)).toMatchObject({
      slotId: fresh[0],
      slotIds: fresh,
      slots: 3,
      startsAt: start,
      endsAt: plus(start, 60),
    });
    expect(await counts([...old, ...fresh])).toEqual([0, 0, 0, 1, 1, 1]);
  });

  it('rescheduling a visit one slot later (a run sharing two of its slots) counts each slot once', async () => {
    const doctor = await aDoctor();
    const start = nextStart();
    const run = await aRun(doctor.id, 4, start);
    const visit = await bookAppointment(db.ctx(SYSTEM), { slotId: run[0] ?? 0, slots: 3, patientId: await aPatient() });
    const moved = await rescheduleAppointment(db.ctx(SYSTEM), visit.id, { slotId: run[1] ?? 0 });
    expect(moved).toMatchObject({ slotIds: run.slice(1), startsAt: plus(start, 20), endsAt: plus(start, 80) });
    expect(await counts(run)).toEqual([0, 1, 1, 1]);
  });

  it('refuses a reschedule whose new run has a full third slot, and leaves the visit where it was', async () => {
    const doctor = await aDoctor();
    const old = await aRun(doctor.id, 3);
    const fresh = await aRun(doctor.id, 3);
    await bookAppointment(db.ctx(SYSTEM), { slotId: fresh[2] ?? 0, patientId: await aPatient() });
    const visit = await bookAppointment(db.ctx(SYSTEM), { slotId: old[0] ?? 0, slots: 3, patientId: await aPatient() });
    const err = await rescheduleAppointment(db.ctx(SYSTEM), visit.id, { slotId: fresh[0] ?? 0 }).catch((e: unknown) => e);
    expect(told(err)).toEqual(told(new SlotFullError(`slot ${fresh[2]} is full (1/1)`, 'slotId')));
    expect(await getAppointment(db.ctx(SYSTEM), visit.id)).toEqual(visit);
    expect(await counts([...old, ...fresh])).toEqual([1, 1, 1, 0, 0, 1]);
  });

  it('refuses a reschedule to a run too short for the visit, naming where it breaks', async () => {
    const doctor = await aDoctor();
    const old = await aRun(doctor.id, 2);
    const fresh = await aRun(doctor.id, 1);
    const visit = await bookAppointment(db.ctx(SYSTEM), { slotId: old[0] ?? 0, slots: 2, patientId: await aPatient() });
    const err = await rescheduleAppointment(db.ctx(SYSTEM), visit.id, { slotId: fresh[0] ?? 0 }).catch((e: unknown) => e);
    expect(told(err)).toEqual(
      told(
        new ConflictError(
          `a visit of 2 slots needs 2 consecutive slots of one doctor: no active slot of the doctor starts when slot ${fresh[0]} ends`,
          'slots',
        ),
      ),
    );
    expect(await getAppointment(db.ctx(SYSTEM), visit.id)).toEqual(visit);
  });

  it('completes a visit as one once it has started, keeping every slot counted', async () => {
    const doctor = await aDoctor();
    const start = nextStart();
    const run = await aRun(doctor.id, 2, start);
    const visit = await bookAppointment(db.ctx(SYSTEM), { slotId: run[0] ?? 0, slots: 2, patientId: await aPatient() });
    const back = db.clock.now();
    db.clock.set(new Date(plus(start, 30)));
    try {
      expect(await completeAppointment(db.ctx(SYSTEM), visit.id)).toMatchObject({ status: 'completed', slotIds: run });
    } finally {
      db.clock.set(back);
    }
    expect(await counts(run)).toEqual([1, 1]);
  });

  it('deleting any slot of a visit is refused naming the visit, and with cancelBookings cancels the whole visit', async () => {
    const doctor = await aDoctor();
    const run = await aRun(doctor.id, 3);
    const visit = await bookAppointment(db.ctx(SYSTEM), { slotId: run[0] ?? 0, slots: 3, patientId: await aPatient() });
    const middle = run[1] ?? 0;
    const err = await deleteSlot(db.ctx(SYSTEM), middle).catch((e: unknown) => e);
    expect(told(err)).toEqual(
      told(new ConflictError(`slot ${middle} has 1 booked appointment(s) (${visit.id}); cancel them with this option`, 'cancelBookings')),
    );
    const deleted = await deleteSlot(db.ctx(SYSTEM), middle, { cancelBookings: true });
    expect(deleted.cancelledAppointmentIds).toEqual([visit.id]);
    expect(await counts(run)).toEqual([0, 0, 0]);
    expect(await getAppointment(db.ctx(SYSTEM), visit.id)).toMatchObject({ status: 'cancelled', cancelReason: 'slot deleted' });
  });
});

describe('leave', () => {
  it('leave with cancelBookings over one slot of a visit cancels the whole visit and frees all its slots', async () => {
    const doctor = await aDoctor();
    const start = nextStart();
    const run = await aRun(doctor.id, 3, start);
    const visit = await bookAppointment(db.ctx(SYSTEM), { slotId: run[0] ?? 0, slots: 3, patientId: await aPatient() });
    const leave = addLeave(db.ctx(SYSTEM), doctor.id, { from: plus(start, 40), to: plus(start, 60) });
    await expect(leave).rejects.toBeInstanceOf(ConflictError);
    const freed = await freedWhile(() => addLeave(db.ctx(SYSTEM), doctor.id, { from: plus(start, 40), to: plus(start, 60), cancelBookings: true }));
    expect(freed.map((f) => [f.cause, f.appointmentId, f.slotId])).toEqual(run.map((slotId) => ['doctor-on-leave', visit.id, slotId]));
    expect(await counts(run)).toEqual([0, 0, 0]);
  });
});

describe('concurrency', () => {
  it('visits over overlapping runs racing for the same slots: exactly one wins each round, and every count stays true', async () => {
    const doctor = await aDoctor(100);
    for (let round = 0; round < 4; round++) {
      const run = await aRun(doctor.id, 5);
      const patients = await Promise.all(Array.from({ length: 4 }, () => makePatient(db)));
      // Runs [0–2], [1–3], [2–4], [0–2] all share slot 2.
      const firsts = [0, 1, 2, 0];
      const results = await Promise.allSettled(patients.map((p, i) => bookAppointment(db.ctx(p.actor), { slotId: run[firsts[i] ?? 0] ?? 0, slots: 3 })));
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won, `round ${round}`).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConflictError);
      const winner = won[0]?.status === 'fulfilled' ? won[0].value : undefined;
      expect(await counts(run)).toEqual(run.map((id) => (winner?.slotIds.includes(id) ? 1 : 0)));
    }
    expect(await slotCountsAreConsistent(db)).toBe(true);
  }, 30_000);
});

describe('concurrency of moves', () => {
  it('a visit rescheduled while other patients book single slots of its new run: it moves whole or not at all, and every count stays true', async () => {
    const doctor = await aDoctor(100);
    for (let round = 0; round < 4; round++) {
      const old = await aRun(doctor.id, 3);
      const fresh = await aRun(doctor.id, 3);
      const visit = await bookAppointment(db.ctx(SYSTEM), { slotId: old[0] ?? 0, slots: 3, patientId: await aPatient() });
      const others = await Promise.all(Array.from({ length: 3 }, () => makePatient(db)));
      const [moved, ...singles] = await Promise.allSettled([
        rescheduleAppointment(db.ctx(SYSTEM), visit.id, { slotId: fresh[0] ?? 0 }),
        ...others.map((p, i) => bookAppointment(db.ctx(p.actor), { slotId: fresh[(round + i) % 3] ?? 0 })),
      ]);
      for (const r of [moved, ...singles]) if (r?.status === 'rejected') expect(r.reason, `round ${round}`).toBeInstanceOf(ConflictError);
      const now = await getAppointment(db.ctx(SYSTEM), visit.id);
      expect(now.slotIds, `round ${round}`).toEqual(moved?.status === 'fulfilled' ? fresh : old);
      const singlesBooked = singles.filter((r) => r.status === 'fulfilled').length;
      expect(singlesBooked + (moved?.status === 'fulfilled' ? 3 : 0), `round ${round}`).toBe((await counts(fresh)).reduce((a, b) => a + b, 0));
      expect(await counts(old)).toEqual(moved?.status === 'fulfilled' ? [0, 0, 0] : [1, 1, 1]);
    }
    expect(await slotCountsAreConsistent(db)).toBe(true);
  }, 30_000);
});

describe('idempotency', () => {
  it('a retry with the same key and length returns the first visit; the same key with another length is refused', async () => {
    const run = await aRun((await aDoctor()).id, 3);
    const patientId = await aPatient();
    const first = await bookAppointment(db.ctx(SYSTEM), { slotId: run[0] ?? 0, slots: 3, patientId, idempotencyKey: 'visit-1' });
    const again = await bookAppointment(db.ctx(SYSTEM), { slotId: run[0] ?? 0, slots: 3, patientId, idempotencyKey: 'visit-1' });
    expect(again).toEqual(first);
    const other = await bookAppointment(db.ctx(SYSTEM), { slotId: run[0] ?? 0, slots: 2, patientId, idempotencyKey: 'visit-1' }).catch((e: unknown) => e);
    expect(told(other)).toEqual(told(new ValidationError('was already used for a different booking request', 'idempotencyKey')));
    expect(await counts(run)).toEqual([1, 1, 1]);
  });
});
