// `ascend appointments book --repeat …`, `list --series`, `cancel --series`, `reschedule --series`: the real CLI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cli, initAdmin, ok, refused, runCli } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedLocalSlot, slotCountsAreConsistent, tokenFor } from '../../support/fixtures.js';
import { KEY, terminal, words } from '../../support/terminal.js';

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

const MONDAYS = ['2026-03-16', '2026-03-23', '2026-03-30'];

/** A Berlin doctor with slots at 09:00 on the given days (summer time from 29 March), and a patient. */
async function setting(days: readonly string[] = MONDAYS) {
  const clinic = await makeClinic(db, { timezone: 'Europe/Berlin', city: 'Berlin' });
  const { doctor } = await makeDoctor(db, clinic.id);
  const slots: number[] = [];
  for (const d of days) slots.push(await seedLocalSlot(db, doctor.id, d, '09:00'));
  const { patient } = await makePatient(db);
  return { doctor, slots, patient, first: String(slots[0]) };
}

describe('ascend appointments book --repeat', () => {
  it('books a weekly series, says so with one line per occurrence, and list --series shows its occurrences', async () => {
    const { first, patient, slots } = await setting();
    const done = await admin.run(['appointments', 'book', '--slot', first, '--patient', String(patient.id), '--repeat', 'weekly', '--count', '3']);
    expect(done.code, done.stderr).toBe(0);
    const [headline, ...lines] = done.stdout.trimEnd().split('\n');
    expect(headline).toMatch(
      new RegExp(`^✓ Booked series \\d+: 3 of 3 occurrences \\(weekly, 3 times\\) for ${patient.name} \\(patient ${patient.id}\\) with Dr `),
    );
    expect(lines.map((l) => l.replace(/appointment \d+/, 'appointment N'))).toEqual([
      '  appointment N  Mon 16 Mar 2026, 09:00 CET',
      '  appointment N  Mon 23 Mar 2026, 09:00 CET',
      '  appointment N  Mon 30 Mar 2026, 09:00 CEST',
    ]);
    const seriesId = /series (\d+)/.exec(headline ?? '')?.[1] ?? '';
    const listed = await ok(admin, ['appointments', 'list', '--series', seriesId]);
    expect(listed.items.map((a: { slotId: number; seriesId: number }) => [a.slotId, a.seriesId])).toEqual(slots.map((s) => [s, Number(seriesId)]));
    const shown = await admin.run(['appointments', 'show', String(listed.items[0].id)]);
    expect(shown.stdout).toContain(`Series     series ${seriesId} (appointments list --series ${seriesId})`);
  });

  it('all or nothing: exit 4, nothing booked, and every occurrence refused named on its own line (and in --json)', async () => {
    const { first, patient } = await setting(['2026-03-16', '2026-03-30']);
    const args = ['appointments', 'book', '--slot', first, '--patient', String(patient.id), '--repeat', 'weekly', '--until', '2026-03-30'];
    const text = await admin.run(args);
    expect({ code: text.code, stderr: text.stderr, stdout: text.stdout }).toEqual({
      code: 4,
      stderr:
        'error: --repeat: 1 of the 3 occurrences cannot be booked: nothing was booked (--partial books the others)\n' +
        'error: occurrence 2 (2026-03-23): the doctor has no slot at 09:00 on 2026-03-23\n',
      stdout: '',
    });
    const json = await admin.run([...args, '--json']);
    const { error } = JSON.parse(json.stderr);
    expect([error.exitCode, error.code, error.field]).toEqual([4, 'conflict', '--repeat']);
    expect(error.occurrences.map((o: { date: string; refusal: { code: string } | null }) => [o.date, o.refusal?.code ?? null])).toEqual([
      ['2026-03-16', null],
      ['2026-03-23', 'no-slot'],
      ['2026-03-30', null],
    ]);
    expect(await db.sql('select id from appointment where patient_id = $1', [patient.id])).toEqual([]);
  });

  it('--partial books what it can, exits 0 and reports the rest', async () => {
    const { first, patient } = await setting(['2026-03-16', '2026-03-30']);
    const series = await ok(admin, [
      'appointments',
      'book',
      '--slot',
      first,
      '--patient',
      String(patient.id),
      '--repeat',
      'weekly',
      '--count',
      '3',
      '--partial',
    ]);
    expect([series.booked, series.refused]).toEqual([2, 1]);
    expect(series.occurrences[1].refusal).toEqual({ code: 'no-slot', message: 'the doctor has no slot at 09:00 on 2026-03-23' });
  });

  it('a patient books a series for themselves', async () => {
    const { first, patient } = await setting();
    const token = await tokenFor(db, { id: patient.userId, role: 'patient' });
    const r = await runCli(['appointments', 'book', '--slot', first, '--repeat', 'daily', '--count', '2', '--partial', '--json'], {
      env: { DATABASE_URL: db.url, ASCEND_TOKEN: token, XDG_CONFIG_HOME: '/nonexistent' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ patientId: patient.id, booked: 1, refused: 1 });
  });

  it('refuses bad flags with exit 2 naming the flag', async () => {
    const { first, patient } = await setting(MONDAYS.slice(0, 1));
    const book = (...flags: string[]) => admin.run(['appointments', 'book', '--slot', first, '--patient', String(patient.id), ...flags]);
    refused(await book('--repeat', 'weekly', '--count', '3', '--until', '2026-04-30'), 2, '--until: give exactly one of count and until');
    refused(await book('--repeat', 'weekly'), 2, '--count: give exactly one of count and until');
    refused(await book('--count', '3'), 2, '--count: is for a recurring series: give --repeat too');
    refused(await book('--repeat', 'weekly', '--count', '1'), 2, '--count: must be at least 2');
    refused(await book('--repeat', 'weekly', '--until', '2027-06-01'), 2, '--until: 2027-06-01 would make 64 occurrences; a series has at most 52');
    refused(
      await book('--repeat', 'weekly', '--count', '2', '--slots', '2'),
      2,
      '--slots: a series repeats one-slot visits: book each longer visit on its own',
    );
    refused(
      await book('--repeat', 'weekly', '--count', '2', '--idempotency-key', 'k1'),
      2,
      '--idempotency-key: is not taken with --repeat: a series is booked once, all or nothing',
    );
    const monthly = await book('--repeat', 'monthly', '--count', '2');
    expect([monthly.code, monthly.stderr.startsWith('error: --repeat: ')]).toEqual([2, true]);
  });
});

describe('ascend appointments cancel|reschedule --series', () => {
  it('cancel --series cancels the occurrence and every later one, naming how many; cancel alone only the one', async () => {
    const { first, patient } = await setting();
    const series = await ok(admin, ['appointments', 'book', '--slot', first, '--patient', String(patient.id), '--repeat', 'weekly', '--count', '3']);
    const ids: number[] = series.occurrences.map((o: { appointment: { id: number } }) => o.appointment.id);
    expect((await admin.run(['appointments', 'cancel', String(ids[0]), '--yes'])).code).toBe(0);
    const done = await admin.run(['appointments', 'cancel', String(ids[1]), '--series', '--yes']);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toBe(
      `✓ Cancelled 2 occurrences of series ${series.id}, from appointment ${ids[1]} on (now Mon 2026-03-23 09:00 CET with ${series.occurrences[0].appointment.doctorName})\n`,
    );
    const statuses = await db.sql<{ status: string }>('select status from appointment where id = any($1::int[]) order by starts_at', [ids]);
    expect(statuses.map((s) => s.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
  });

  it('reschedule --series moves every later occurrence by as much; on one booked alone it is refused (exit 4)', async () => {
    const { first, patient, doctor } = await setting();
    const later: number[] = [];
    for (const d of MONDAYS) later.push(await seedLocalSlot(db, doctor.id, d, '11:00'));
    const series = await ok(admin, ['appointments', 'book', '--slot', first, '--patient', String(patient.id), '--repeat', 'weekly', '--count', '3']);
    const ids: number[] = series.occurrences.map((o: { appointment: { id: number } }) => o.appointment.id);
    const moved = await ok(admin, ['appointments', 'reschedule', String(ids[0]), '--slot', String(later[0]), '--series', '--yes']);
    expect(moved.appointments.map((a: { slotId: number }) => a.slotId)).toEqual(later);
    const free = await seedLocalSlot(db, doctor.id, '2026-03-16', '14:00');
    const alone = await admin.run(['appointments', 'book', '--slot', String(free), '--patient', String((await makePatient(db)).patient.id), '--json']);
    refused(
      await admin.run(['appointments', 'reschedule', String(alone.json().id), '--slot', first, '--series']),
      4,
      `--series: appointment ${alone.json().id} is not part of a series`,
    );
  });
});

describe('on a terminal', () => {
  it('cancel --series asks naming how many occurrences; N changes nothing, y cancels them all', async () => {
    const { first, patient } = await setting();
    const series = await ok(admin, ['appointments', 'book', '--slot', first, '--patient', String(patient.id), '--repeat', 'weekly', '--count', '3']);
    const ids: number[] = series.occurrences.map((o: { appointment: { id: number } }) => o.appointment.id);
    const token = await tokenFor(db, { id: patient.userId, role: 'patient' });
    const env = { DATABASE_URL: db.url, ASCEND_TOKEN: token, XDG_CONFIG_HOME: '/nonexistent' };
    const question = `Cancel appointment ${ids[1]} of ${patient.name} (patient ${patient.id}) on Mon 2026-03-23 09:00 CET and every later occurrence of series ${series.id}: 2 appointments in all?`;
    const no = terminal(['appointments', 'cancel', String(ids[1]), '--series'], env);
    await no.waitFor(question);
    no.type(`n${KEY.enter}`);
    const declined = await no.done();
    expect([declined.code, words(declined.screen).includes(`Series of appointment ${ids[1]} not cancelled: nothing changed.`)]).toEqual([0, true]);
    const yes = terminal(['appointments', 'cancel', String(ids[1]), '--series'], env);
    await yes.waitFor(question);
    yes.type(`y${KEY.enter}`);
    const done = await yes.done();
    expect(done.code).toBe(0);
    expect(words(done.screen)).toContain(`Cancelled 2 occurrences of series ${series.id}, from appointment ${ids[1]} on`);
    const statuses = await db.sql<{ status: string }>('select status from appointment where id = any($1::int[]) order by starts_at', [ids]);
    expect(statuses.map((s) => s.status)).toEqual(['booked', 'cancelled', 'cancelled']);
  });
});
