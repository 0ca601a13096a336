// `ascend appointments book --slot ID --slots N`: a longer visit from the command line, and what each role is told.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { day, shown } from '../../support/clock.js';
import { type Cli, initAdmin, refused, runCli } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedSlot, slotCountsAreConsistent, tokenFor } from '../../support/fixtures.js';

let db: TestDatabase;
let admin: Cli;
beforeAll(async () => {
  db = await createTestDatabase();
  admin = await initAdmin(db.url);
});
afterAll(async () => {
  expect(await slotCountsAreConsistent(db)).toBe(true);
  await db.drop();
});

const as = (token: string | undefined, args: string[]) => runCli(args, { env: { DATABASE_URL: db.url, ASCEND_TOKEN: token, XDG_CONFIG_HOME: '/nonexistent' } });

let days = 6;
/** Three back-to-back 20-minute slots at 09:20, 09:40 and 10:00 in Asia/Kolkata, on a day of their own. */
async function aRun(doctorId: number) {
  const n = ++days;
  const ids: number[] = [];
  for (const time of ['03:50', '04:10', '04:30']) ids.push(await seedSlot(db, doctorId, `${day(n)}T${time}:00Z`, 20, 1));
  return { n, ids };
}

describe('ascend appointments book --slots', () => {
  it('books three slots as one appointment and says so: the whole span and the number of slots', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const { n, ids } = await aRun(doctor.id);
    const { patient } = await makePatient(db);
    const token = await tokenFor(db, { id: patient.userId, role: 'patient' });
    const booked = await as(token, ['appointments', 'book', '--slot', String(ids[0]), '--slots', '3']);
    expect(booked.code, booked.stderr).toBe(0);
    const [row] = await db.sql<{ id: number }>('select id from appointment where patient_id = $1', [patient.id]);
    expect(booked.stdout).toBe(
      `✓ Booked appointment ${row?.id}: ${patient.name} (patient ${patient.id}, user ${patient.userId}) with ${doctor.name}, ${shown(n)} 09:20–10:20 IST (3 slots) at ${clinic.name}\n`,
    );
    const shownJson = (await as(token, ['appointments', 'show', String(row?.id), '--json'])).json();
    expect(shownJson).toMatchObject({ slotId: ids[0], slotIds: ids, slots: 3, startsAt: `${day(n)}T03:50:00.000Z`, endsAt: `${day(n)}T04:50:00.000Z` });
    expect(await db.sql('select booked_count from slot where id = any($1::int[]) order by id', [ids])).toEqual(ids.map(() => ({ booked_count: 1 })));
  });

  it('an admin books a visit for a patient; cancelling it frees every slot', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const { ids } = await aRun(doctor.id);
    const { patient } = await makePatient(db);
    const booked = await admin.run(['appointments', 'book', '--slot', String(ids[0]), '--slots', '2', '--patient', String(patient.id), '--json']);
    expect(booked.code, booked.stderr).toBe(0);
    expect(booked.json()).toMatchObject({ slotIds: ids.slice(0, 2), slots: 2 });
    const cancelled = await admin.run(['appointments', 'cancel', String(booked.json().id), '--json']);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled', slotIds: ids.slice(0, 2) });
    expect(await db.sql('select booked_count from slot where id = any($1::int[]) order by id', [ids])).toEqual(ids.map(() => ({ booked_count: 0 })));
  });

  it('reschedules a visit to the first slot of a new run and says where it went', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const old = await aRun(doctor.id);
    const fresh = await aRun(doctor.id);
    const { patient } = await makePatient(db);
    const booked = await admin.run(['appointments', 'book', '--slot', String(old.ids[0]), '--slots', '3', '--patient', String(patient.id), '--json']);
    const moved = await admin.run(['appointments', 'reschedule', String(booked.json().id), '--slot', String(fresh.ids[0])]);
    expect(moved.stdout).toBe(
      `✓ Moved appointment ${booked.json().id} to ${shown(fresh.n)} 09:20–10:20 IST (3 slots) with ${doctor.name} (slots ${fresh.ids.join(', ')})\n`,
    );
  });

  it('refuses with the documented exit codes: a full third slot 4 naming it, a run too short 4, a length out of range 2, a doctor 6, no login 5', async () => {
    const clinic = await makeClinic(db);
    const { doctor, actor: doctorActor } = await makeDoctor(db, clinic.id);
    const { ids } = await aRun(doctor.id);
    const { patient } = await makePatient(db);
    const { patient: other } = await makePatient(db);
    const token = await tokenFor(db, { id: patient.userId, role: 'patient' });
    await admin.run(['appointments', 'book', '--slot', String(ids[2]), '--patient', String(other.id)]);
    refused(await as(token, ['appointments', 'book', '--slot', String(ids[0]), '--slots', '3']), 4, `--slot: slot ${ids[2]} is full (1/1)`);
    refused(
      await as(token, ['appointments', 'book', '--slot', String(ids[1]), '--slots', '4', '--json']),
      4,
      `--slots: a visit of 4 slots needs 4 consecutive slots of one doctor: no active slot of the doctor starts when slot ${ids[2]} ends`,
    );
    const tooLong = await as(token, ['appointments', 'book', '--slot', String(ids[0]), '--slots', '9']);
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toMatch(/^error: --slots: .*8/);
    expect((await as(token, ['appointments', 'book', '--slot', String(ids[0]), '--slots', '0'])).code).toBe(2);
    const doctorToken = await tokenFor(db, { id: doctorActor.kind === 'user' ? doctorActor.id : 0, role: 'doctor' });
    expect((await as(doctorToken, ['appointments', 'book', '--slot', String(ids[0]), '--slots', '2'])).code).toBe(6);
    expect((await as(undefined, ['appointments', 'book', '--slot', String(ids[0]), '--slots', '2'])).code).toBe(5);
    expect(await db.sql('select booked_count from slot where id = any($1::int[]) order by id', [ids])).toEqual([
      { booked_count: 0 },
      { booked_count: 0 },
      { booked_count: 1 },
    ]);
  });

  it('lists --slots in the help of appointments book, with an example', async () => {
    const help = await runCli(['appointments', 'book', '--help']);
    expect(help.stdout).toContain('--slots <n>');
    expect(help.stdout).toContain('ascend appointments book --slot 42 --slots 3');
  });
});
