import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Migrator } from '@mikro-orm/migrations';
import { migrationsList } from '../../migrations/index.js';
import { resetSchema } from '../../src/db/migrator.js';
import { LATEST_MIGRATION } from '../../src/db/schema-version.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { day } from '../support/clock.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

/** Runs SQL expected to be refused; returns the SQLSTATE and constraint name. */
async function refusal(text: string, params: unknown[] = []) {
  try {
    await db.sql(text, params);
  } catch (err) {
    const e = err as { code: string; constraint?: string; message: string };
    return { code: e.code, constraint: e.constraint, message: e.message };
  }
  throw new Error(`expected the database to refuse: ${text}`);
}

async function seedDoctor() {
  const [user] = await db.sql<{ id: number }>(
    `insert into "user" (name, email, password_hash, role) values ('Dr', 'dr-' || gen_random_uuid() || '@x.org', 'h', 'doctor') returning id`,
  );
  const [clinic] = await db.sql<{ id: number }>(
    `insert into clinic (name, city, timezone) values ('C ' || gen_random_uuid(), 'Pune', 'Asia/Kolkata') returning id`,
  );
  const [doctor] = await db.sql<{ id: number }>(
    `insert into doctor (user_id, clinic_id, specialty, license_number) values ($1, $2, 'cardiology', 'L-' || gen_random_uuid()) returning id`,
    [user!.id, clinic!.id],
  );
  return { doctorId: doctor!.id, clinicId: clinic!.id };
}

/** A patient user and their record, in one statement: a patient user without a record is refused at commit. */
async function seedPatient() {
  const [patient] = await db.sql<{ id: number }>(
    `with u as (insert into "user" (name, email, password_hash, role) values ('P', 'p-' || gen_random_uuid() || '@x.org', 'h', 'patient') returning id)
     insert into patient (user_id) select id from u returning id`,
  );
  return patient!.id;
}

describe('the schema holds the rules itself', () => {
  it('LATEST_MIGRATION names the newest registered migration', () => {
    expect(migrationsList.at(-1)!.name).toBe(LATEST_MIGRATION);
  });

  it('emails are unique without regard to case', async () => {
    await db.sql(`insert into "user" (name, email, password_hash, role) values ('A', 'Case@X.org', 'h', 'admin')`);
    expect(await refusal(`insert into "user" (name, email, password_hash, role) values ('B', 'case@x.ORG', 'h', 'admin')`)).toMatchObject({
      code: '23505',
      constraint: 'user_email_lower_unique',
    });
    expect(await refusal(`insert into "user" (name, email, password_hash, role) values ('B', 'b@x.org', 'h', 'nurse')`)).toMatchObject({
      constraint: 'user_role_check',
    });
  });

  it('two active slots of one doctor cannot overlap (exclusion constraint); an inactive one may', async () => {
    const { doctorId, clinicId } = await seedDoctor();
    const insert = `insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity, is_active) values ($1, $2, $3, $4, 1, $5)`;
    await db.sql(insert, [doctorId, clinicId, `${day(8)}T09:00Z`, `${day(8)}T09:20Z`, true]);
    expect(await refusal(insert, [doctorId, clinicId, `${day(8)}T09:10Z`, `${day(8)}T09:30Z`, true])).toMatchObject({
      code: '23P01',
      constraint: 'slot_no_overlap',
    });
    await db.sql(insert, [doctorId, clinicId, `${day(8)}T09:20Z`, `${day(8)}T09:40Z`, true]); // touching is fine
    await db.sql(insert, [doctorId, clinicId, `${day(8)}T09:10Z`, `${day(8)}T09:30Z`, false]);
    expect(await refusal(insert, [doctorId, clinicId, `${day(8)}T10:00Z`, `${day(8)}T09:00Z`, true])).toMatchObject({ constraint: 'slot_ends_after_start' });
  });

  it('booked_count stays within capacity and must equal the live appointments at commit', async () => {
    const { doctorId, clinicId } = await seedDoctor();
    const patientId = await seedPatient();
    const [slot] = await db.sql<{ id: number }>(
      `insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity) values ($1, $2, '${day(39)}T09:00Z', '${day(39)}T09:20Z', 1) returning id`,
      [doctorId, clinicId],
    );
    expect(await refusal(`update slot set booked_count = 2 where id = $1`, [slot!.id])).toMatchObject({ constraint: 'slot_booked_within_capacity' });
    // An appointment without the matching increment is refused when the transaction commits.
    expect(
      await refusal(
        `insert into appointment (slot_id, patient_id, doctor_id, clinic_id, starts_at, ends_at) values ($1, $2, $3, $4, '${day(39)}T09:00Z', '${day(39)}T09:20Z')`,
        [slot!.id, patientId, doctorId, clinicId],
      ),
    ).toMatchObject({ code: '23514', constraint: 'slot_booked_count_matches' });
    // Done as one unit of work, it commits.
    await db.sql(
      `with a as (insert into appointment (slot_id, patient_id, doctor_id, clinic_id, starts_at, ends_at)
                  values ($1, $2, $3, $4, '${day(39)}T09:00Z', '${day(39)}T09:20Z') returning slot_id)
       update slot set booked_count = booked_count + 1 where id = (select slot_id from a)`,
      [slot!.id, patientId, doctorId, clinicId],
    );
    const [row] = await db.sql(`select booked_count from slot where id = $1`, [slot!.id]);
    expect(row!.booked_count).toBe(1);
  });

  it('a patient cannot hold two overlapping booked appointments', async () => {
    const { doctorId, clinicId } = await seedDoctor();
    const other = await seedDoctor();
    const patientId = await seedPatient();
    const slotSql = `insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity, booked_count) values ($1, $2, '${day(67)}T09:00Z', '${day(67)}T09:30Z', 5, 0) returning id`;
    const [a] = await db.sql<{ id: number }>(slotSql, [doctorId, clinicId]);
    const [b] = await db.sql<{ id: number }>(slotSql, [other.doctorId, other.clinicId]);
    const book = (slotId: number, d: number, c: number) =>
      db.sql(
        `with a as (insert into appointment (slot_id, patient_id, doctor_id, clinic_id, starts_at, ends_at)
                    values ($1, $2, $3, $4, '${day(67)}T09:00Z', '${day(67)}T09:30Z') returning slot_id)
         update slot set booked_count = booked_count + 1 where id = (select slot_id from a)`,
        [slotId, patientId, d, c],
      );
    await book(a!.id, doctorId, clinicId);
    await expect(book(b!.id, other.doctorId, other.clinicId)).rejects.toMatchObject({ code: '23P01', constraint: 'appointment_patient_no_overlap' });
  });

  it('leave and weekly hours of one doctor do not overlap; blood groups are checked', async () => {
    const { doctorId } = await seedDoctor();
    await db.sql(`insert into doctor_leave (doctor_id, starts_at, ends_at) values ($1, '${day(98)}T00:00Z', '${day(100)}T00:00Z')`, [doctorId]);
    expect(
      await refusal(`insert into doctor_leave (doctor_id, starts_at, ends_at) values ($1, '${day(99)}T00:00Z', '${day(102)}T00:00Z')`, [doctorId]),
    ).toMatchObject({
      constraint: 'doctor_leave_no_overlap',
    });
    await db.sql(`insert into doctor_hours (doctor_id, weekday, starts_at_local, ends_at_local, slot_minutes) values ($1, 1, '09:00', '13:00', 20)`, [
      doctorId,
    ]);
    await db.sql(`insert into doctor_hours (doctor_id, weekday, starts_at_local, ends_at_local, slot_minutes) values ($1, 1, '14:00', '18:00', 20)`, [
      doctorId,
    ]);
    expect(
      await refusal(`insert into doctor_hours (doctor_id, weekday, starts_at_local, ends_at_local, slot_minutes) values ($1, 1, '12:00', '15:00', 20)`, [
        doctorId,
      ]),
    ).toMatchObject({ constraint: 'doctor_hours_no_overlap' });
    const [u] = await db.sql<{ id: number }>(`insert into "user" (name, email, password_hash, role) values ('Q', 'q@x.org', 'h', 'admin') returning id`);
    expect(await refusal(`insert into patient (user_id, blood_group) values ($1, 'C+')`, [u!.id])).toMatchObject({ constraint: 'patient_blood_group_check' });
  });

  it("a doctor's daily maximum holds in the database, whatever writes the appointments", async () => {
    const { doctorId, clinicId } = await seedDoctor();
    await db.sql(`update doctor set max_patients_per_day = 1 where id = $1`, [doctorId]);
    const book = async (start: string) => {
      const [slot] = await db.sql<{ id: number }>(
        `insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity) values ($1, $2, $3::timestamptz, $3::timestamptz + interval '20 minutes', 1) returning id`,
        [doctorId, clinicId, start],
      );
      const patientId = await seedPatient();
      return db.sql(
        `with a as (insert into appointment (slot_id, patient_id, doctor_id, clinic_id, starts_at, ends_at)
                    select id, $2, doctor_id, clinic_id, starts_at, ends_at from slot where id = $1 returning slot_id)
         update slot set booked_count = booked_count + 1 where id = (select slot_id from a)`,
        [slot!.id, patientId],
      );
    };
    await book(`${day(168)}T04:00:00Z`); // 09:30 in Kolkata
    await expect(book(`${day(168)}T10:00:00Z`)).rejects.toMatchObject({ code: '23514', constraint: 'appointment_doctor_day_max' });
    await book(`${day(168)}T19:00:00Z`); // 00:30 the next day in Kolkata: another clinic day
  });

  it('a patient user without a patient record is refused at commit, however it comes about', async () => {
    const refused = { code: '23514', constraint: 'user_patient_has_record' };
    expect(await refusal(`insert into "user" (name, email, password_hash, role) values ('Lone', 'lone@x.org', 'h', 'patient')`)).toMatchObject(refused);
    // Within one transaction the record may come after its user: the check waits for the commit.
    await db.sql(
      `insert into "user" (name, email, password_hash, role) values ('Pair', 'pair@x.org', 'h', 'patient');
       insert into patient (user_id) values (currval('user_id_seq'));`,
    );
    const [staff] = await db.sql<{ id: number }>(
      `insert into "user" (name, email, password_hash, role) values ('Staff', 'staff@x.org', 'h', 'admin') returning id`,
    );
    expect(await refusal(`update "user" set role = 'patient' where id = $1`, [staff!.id])).toMatchObject(refused);
    const [pair] = await db.sql<{ id: number }>(`select p.id from patient p join "user" u on u.id = p.user_id where u.email = 'pair@x.org'`);
    expect(await refusal(`delete from patient where id = $1`, [pair!.id])).toMatchObject(refused);
    expect(await refusal(`update patient set user_id = $1 where id = $2`, [staff!.id, pair!.id])).toMatchObject(refused);
  });

  it('the audit log is append-only', async () => {
    await db.sql(`insert into audit_event (action, entity, entity_id) values ('test', 'user', '1')`);
    expect(await refusal(`update audit_event set action = 'forged'`)).toMatchObject({ message: 'audit_event is append-only' });
    expect(await refusal(`delete from audit_event`)).toMatchObject({ message: 'audit_event is append-only' });
  });
});

describe('Migration20261201010000_patient_for_every_patient_user', () => {
  it('makes the missing patient record of every patient user, with an audit event each, and leaves the others alone', async () => {
    const scratch = await createTestDatabase();
    try {
      const previous = 'Migration20261130010000_login_address';
      await scratch.sql('drop schema public cascade; create schema public;');
      scratch.orm.config.set('migrations', { ...scratch.orm.config.get('migrations'), migrationsList });
      const migrator = new Migrator(scratch.orm.em);
      await migrator.up({ to: previous });
      // What `users create --role patient` made before: users without a record, beside one with a record.
      await scratch.sql(
        `insert into "user" (name, email, password_hash, role) values
           ('Lone One', 'one@x.org', 'h', 'patient'), ('Lone Two', 'two@x.org', 'h', 'patient'),
           ('Has Record', 'has@x.org', 'h', 'patient'), ('An Admin', 'admin@x.org', 'h', 'admin')`,
      );
      await scratch.sql(`insert into patient (user_id, date_of_birth) select id, '1970-01-01' from "user" where email = 'has@x.org'`);

      await migrator.up();
      const records = await scratch.sql(
        `select u.email, count(p.id)::int as records, max(p.date_of_birth)::text as dob from "user" u left join patient p on p.user_id = u.id
          group by u.email order by u.email`,
      );
      expect(records).toEqual([
        { email: 'admin@x.org', records: 0, dob: null },
        { email: 'has@x.org', records: 1, dob: '1970-01-01' },
        { email: 'one@x.org', records: 1, dob: null },
        { email: 'two@x.org', records: 1, dob: null },
      ]);
      const events = await scratch.sql(
        `select a.action, a.entity, a.after->>'email' as email, a.entity_id = p.id::text as names_the_record
           from audit_event a join patient p on p.id = (a.after->>'id')::int order by a.id`,
      );
      expect(events).toEqual([
        { action: 'patient.create', entity: 'patient', email: 'one@x.org', names_the_record: true },
        { action: 'patient.create', entity: 'patient', email: 'two@x.org', names_the_record: true },
      ]);
    } finally {
      await scratch.drop();
    }
  });
});

describe("graphile-worker's job queue", () => {
  it('is installed by migrate(): a job added from SQL, in the caller’s transaction, is queued', async () => {
    await db.sql(`begin; select graphile_worker.add_job('probe', json_build_object('n', 1)); commit;`);
    const [job] = await db.sql<{ task_identifier: string; payload: unknown }>(
      `select j.task_identifier, p.payload from graphile_worker.jobs j join graphile_worker._private_jobs p on p.id = j.id where j.task_identifier = 'probe'`,
    );
    expect(job).toEqual({ task_identifier: 'probe', payload: { n: 1 } });
  });

  it('db reset (resetSchema) drops the queued jobs with the records and installs the queue again', async () => {
    const scratch = await createTestDatabase();
    try {
      await scratch.sql(`select graphile_worker.add_job('probe', '{}'::json)`);
      await scratch.sql(`insert into clinic (name, city, timezone) values ('Gone', 'Pune', 'Asia/Kolkata')`);
      const applied = await resetSchema(scratch.orm);
      expect(applied).toEqual(migrationsList.map((m) => m.name));
      expect(await scratch.sql('select count(*)::int as n from graphile_worker.jobs')).toEqual([{ n: 0 }]);
      expect(await scratch.sql('select count(*)::int as n from clinic')).toEqual([{ n: 0 }]);
      await scratch.sql(`select graphile_worker.add_job('probe', '{}'::json)`);
      expect(await scratch.sql('select count(*)::int as n from graphile_worker.jobs')).toEqual([{ n: 1 }]);
    } finally {
      await scratch.drop();
    }
  });
});
