// Builders for test data: each test makes what it needs through the real services.
import { randomBytes } from 'node:crypto';
import { SYSTEM, type Actor, type Role } from '../../src/domain/roles.js';
import { createUser } from '../../src/services/users.js';
import { createClinic } from '../../src/services/clinics.js';
import { createDoctor } from '../../src/services/doctors.js';
import { createPatient } from '../../src/services/patients.js';
import { type FreedPlace, watchFreedPlaces } from '../../src/services/booking/release.js';
import type { TestDatabase } from './db.js';

export const PASSWORD = 'Test-pass-123';

export const uniqueEmail = (prefix = 'user') => `${prefix}-${randomBytes(4).toString('hex')}@example.org`;

export async function makeUser(db: TestDatabase, role: Role, overrides: { email?: string; name?: string } = {}) {
  const user = await createUser(db.ctx(SYSTEM), {
    email: overrides.email ?? uniqueEmail(role),
    name: overrides.name ?? `Test ${role}`,
    password: PASSWORD,
    role,
  });
  const actor: Actor = { kind: 'user', id: user.id, role, email: user.email, name: user.name };
  return { user, actor };
}

let counter = 0;
const next = () => `${Date.now().toString(36)}${(counter++).toString(36)}`;

export async function makeClinic(db: TestDatabase, overrides: { timezone?: string; city?: string; name?: string } = {}) {
  return createClinic(db.ctx(SYSTEM), {
    name: overrides.name ?? `Clinic ${next()}`,
    city: overrides.city ?? 'Pune',
    timezone: overrides.timezone ?? 'Asia/Kolkata',
  });
}

export async function makeDoctor(db: TestDatabase, clinicId: number, overrides: { specialty?: string; maxPatientsPerDay?: number } = {}) {
  const doctor = await createDoctor(db.ctx(SYSTEM), {
    email: uniqueEmail('doctor'),
    name: `Dr ${next()}`,
    password: PASSWORD,
    clinicId,
    specialty: overrides.specialty ?? 'cardiology',
    licenseNumber: `LIC-${next()}`,
    maxPatientsPerDay: overrides.maxPatientsPerDay,
  });
  const actor: Actor = { kind: 'user', id: doctor.userId, role: 'doctor', email: doctor.email, name: doctor.name };
  return { doctor, actor };
}

export async function makePatient(db: TestDatabase) {
  const patient = await createPatient(db.ctx(SYSTEM), { email: uniqueEmail('patient'), name: `Pat ${next()}`, password: PASSWORD, dateOfBirth: '1990-04-01' });
  const actor: Actor = { kind: 'user', id: patient.userId, role: 'patient', email: patient.email, name: patient.name };
  return { patient, actor };
}

/** A slot, straight in SQL (the slot services arrive with [3/5]). */
export async function seedSlot(db: TestDatabase, doctorId: number, startsAt: string, minutes = 20, capacity = 1): Promise<number> {
  const [row] = await db.sql<{ id: number }>(
    `insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity)
     select $1, clinic_id, $2::timestamptz, $2::timestamptz + make_interval(mins => $3), $4 from doctor where id = $1 returning id`,
    [doctorId, startsAt, minutes, capacity],
  );
  return row!.id;
}

/** A 20-minute slot starting at a local day and time (HH:MM) in the doctor's clinic's zone. */
export async function seedLocalSlot(db: TestDatabase, doctorId: number, date: string, time: string, capacity = 1): Promise<number> {
  const [row] = await db.sql<{ id: number }>(
    `insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity)
     select d.id, d.clinic_id, t.at, t.at + interval '20 minutes', $4 from doctor d join clinic c on c.id = d.clinic_id,
            lateral (select ($2::date + $3::time) at time zone c.timezone as at) t
      where d.id = $1 returning id`,
    [doctorId, date, time, capacity],
  );
  if (!row) throw new Error(`no doctor ${doctorId}`);
  return row.id;
}

/** A booked appointment with its booked_count increment, as one statement (booking arrives with [4/5]). */
export async function seedBooking(db: TestDatabase, slotId: number, patientId: number): Promise<number> {
  const [row] = await db.sql<{ id: number }>(
    `with s as (update slot set booked_count = booked_count + 1 where id = $1 returning id, doctor_id, clinic_id, starts_at, ends_at)
     insert into appointment (slot_id, patient_id, doctor_id, clinic_id, starts_at, ends_at)
     select s.id, $2, s.doctor_id, s.clinic_id, s.starts_at, s.ends_at from s returning id`,
    [slotId, patientId],
  );
  return row!.id;
}

/** booked_count equals the live appointments holding the slot (first, or further on in a longer visit) for every slot: the invariant every test can check. */
export async function slotCountsAreConsistent(db: TestDatabase): Promise<boolean> {
  const bad = await db.sql(
    `select s.id from slot s
       left join (select slot_id, id from appointment union all select x.slot_id, x.appointment_id from appointment_slot x) h on h.slot_id = s.id
       left join appointment a on a.id = h.id and a.status <> 'cancelled'
      group by s.id having s.booked_count <> count(a.id)`,
  );
  return bad.length === 0;
}

/** A real access token for a user, of a session of its own, as `ascend login` would store it (saves a bcrypt login per test user). */
export async function tokenFor(db: TestDatabase, user: { id: number; role: Role }): Promise<string> {
  return (await sessionFor(db, user)).accessToken;
}

/** A session for a user, opened as logging in opens one: its access token, refresh token and id. */
export async function sessionFor(db: TestDatabase, user: { id: number; role: Role }) {
  const { openSession } = await import('../../src/services/sessions.js');
  const { transaction } = await import('../../src/services/locks.js');
  return transaction(db.ctx(SYSTEM), (tx) => openSession(tx, { ...user, tokenVersion: 0 }, { kind: 'cli' }));
}

/**
 * For the duration of `fn`, every update of a doctor fails the way PostgreSQL fails it (`errcode`: 40P01 a
 * deadlock, XX000 an internal error …), and the attempts are counted (in a sequence: rollbacks keep it).
 */
export async function whileDoctorUpdatesFail<T>(
  db: TestDatabase,
  errcode: string,
  message: string,
  fn: () => Promise<T>,
): Promise<{ result: T; attempts: number }> {
  await db.sql(`create sequence doctor_update_attempts`);
  await db.sql(`create function refuse_doctor_update() returns trigger language plpgsql as $$
    begin perform nextval('doctor_update_attempts'); raise exception '${message}' using errcode = '${errcode}'; end $$`);
  await db.sql(`create trigger refuse_doctor_update before update on doctor for each row execute function refuse_doctor_update()`);
  try {
    const result = await fn();
    const [row] = await db.sql<{ n: string }>(`select case when is_called then last_value else 0 end as n from doctor_update_attempts`);
    return { result, attempts: Number(row!.n) };
  } finally {
    await db.sql(`drop trigger refuse_doctor_update on doctor; drop function refuse_doctor_update(); drop sequence doctor_update_attempts`);
  }
}

/** The places freed while `run` runs, as the release reports them (to every watcher, in the freeing transaction). */
export async function freedWhile(run: () => Promise<unknown>): Promise<FreedPlace[]> {
  const freed: FreedPlace[] = [];
  const stop = watchFreedPlaces(async (_tx, places) => {
    freed.push(...places);
  });
  try {
    await run();
  } finally {
    stop();
  }
  return freed;
}
