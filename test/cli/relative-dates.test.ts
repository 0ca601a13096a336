// Dates as people say them on the command line (`tomorrow`, `mon`, `+1w`), read in the clinic's zone at the
// CLI's "now" (ASCEND_NOW); times shown with their weekday and the zone's usual name; leave echoed as the days
// given; `appointments list` showing what is coming unless asked for the past.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cli, cliFor, initAdmin, ok, refused } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedBooking, seedSlot } from '../support/fixtures.js';

let db: TestDatabase;
let admin: Cli;
let kolkataDoctor: number;
let berlinDoctor: number;
let patientId: number;

beforeAll(async () => {
  db = await createTestDatabase();
  admin = await initAdmin(db.url);
  const kolkata = await makeClinic(db, { timezone: 'Asia/Kolkata', city: 'Kolkata' });
  const berlin = await makeClinic(db, { timezone: 'Europe/Berlin', city: 'Berlin' });
  kolkataDoctor = (await makeDoctor(db, kolkata.id)).doctor.id;
  berlinDoctor = (await makeDoctor(db, berlin.id)).doctor.id;
  patientId = (await makePatient(db)).patient.id;
});
afterAll(() => db.drop());

/** The first column of each table row of plain output (the header and the trailing empty line dropped). */
const column = (stdout: string, index: number) =>
  stdout
    .split('\n')
    .slice(1, -1)
    .map((line) => line.split('\t')[index]);

describe('relative dates in the clinic’s zone', () => {
  it('slots free --from tomorrow is the clinic’s tomorrow, shown with weekday and IST', async () => {
    // Monday 2026-03-02 20:00 UTC is already Tuesday 01:30 in Kolkata: the clinic's tomorrow is Wednesday the 4th.
    const evening = cliFor(db.url, { ASCEND_NOW: '2026-03-02T20:00:00.000Z' });
    await ok(evening, ['login', '--email', 'admin@example.org', '--password-stdin'], { input: 'S3cure-pass!\n' });
    await seedSlot(db, kolkataDoctor, '2026-03-03T03:30:00Z'); // Tue 09:00 IST: the clinic's today
    const wednesday = await seedSlot(db, kolkataDoctor, '2026-03-04T03:30:00Z'); // Wed 09:00 IST
    await seedSlot(db, kolkataDoctor, '2026-03-05T03:30:00Z'); // Thu 09:00 IST
    const args = ['slots', 'free', '--doctor', String(kolkataDoctor), '--from', 'tomorrow', '--to', 'Tomorrow'];
    const listed = await ok(evening, args);
    expect(listed.items.map((s: { id: number }) => s.id)).toEqual([wednesday]);
    const plain = await evening.run(args);
    expect(plain.code, plain.stderr).toBe(0);
    expect(column(plain.stdout, 1)).toEqual(['Wed 2026-03-04 09:00 IST']);
    expect(column(plain.stdout, 2)).toEqual(['09:20']);
  });

  it('refuses a word it does not know, naming the flag and the forms it takes (exit 2)', async () => {
    refused(
      await admin.run(['slots', 'free', '--doctor', String(kolkataDoctor), '--from', 'someday']),
      2,
      '--from: must be a day (YYYY-MM-DD, today, tomorrow, yesterday, a weekday (mon: the next Monday), +3d, +2w or -1d) with an optional HH:MM in clinic time, or ISO 8601 with an offset (got "someday")',
    );
  });

  it('doctors leave add --from mon --to +1w echoes the days given, the last included, in list and conflicts too', async () => {
    // At the frozen now (Monday 2 March, 07:00 CET) `mon` is the next Monday, the 9th, and `+1w` the 9th too.
    const oneDay = await admin.run(['doctors', 'leave', 'add', String(berlinDoctor), '--from', 'mon', '--to', '+1w']);
    expect(oneDay.code, oneDay.stderr).toBe(0);
    expect(oneDay.stdout).toMatch(new RegExp(`^✓ Leave \\d+ added for doctor ${berlinDoctor}: Mon 9 Mar 2026, all day\\n$`));
    // Across the change to summer time on the 29th: the JSON keeps instants, and adds the local days.
    const weeks = await ok(admin, ['doctors', 'leave', 'add', String(berlinDoctor), '--from', '+2w', '--to', '+4w', '--reason', 'Holiday']);
    expect(weeks).toMatchObject({
      startsAt: '2026-03-15T23:00:00.000Z',
      endsAt: '2026-03-30T22:00:00.000Z',
      firstDay: '2026-03-16',
      lastDay: '2026-03-30',
      wholeDays: true,
    });
    const part = await admin.run(['doctors', 'leave', 'add', String(berlinDoctor), '--from', 'tomorrow 09:00', '--to', 'tomorrow 13:00']);
    expect(part.code, part.stderr).toBe(0);
    expect(part.stdout).toMatch(/: Tue 2026-03-03 09:00–13:00 CET\n$/);
    const listed = await admin.run(['doctors', 'leave', 'list', String(berlinDoctor)]);
    expect(column(listed.stdout, 1)).toEqual(['Tue 2026-03-03 09:00–13:00 CET', 'Mon 9 Mar 2026, all day', '16–30 Mar 2026, inclusive']);
    refused(
      await admin.run(['doctors', 'leave', 'add', String(berlinDoctor), '--from', '+3w', '--to', '+3w']),
      4,
      `--from: overlaps leave ${weeks.id} (16–30 Mar 2026, inclusive)`,
    );
  });
});

describe('appointments list: what is coming, unless asked', () => {
  let yesterday: number;
  let lastNight: number;
  let earlyToday: number;
  let nextWeek: number;

  beforeAll(async () => {
    // The frozen now is Monday 2 March 2026 11:30 in Kolkata (06:00 UTC). The clinic's today began at
    // 1 March 18:30 UTC: 19:00 UTC that evening is today in Kolkata though it is yesterday in UTC.
    const at = async (startsAt: string) => seedBooking(db, await seedSlot(db, kolkataDoctor, startsAt), patientId);
    yesterday = await at('2026-03-01T04:30:00Z'); // Sun 10:00 IST
    lastNight = await at('2026-03-01T17:00:00Z'); // Sun 22:30 IST
    earlyToday = await at('2026-03-01T19:00:00Z'); // Mon 00:30 IST
    nextWeek = await at('2026-03-09T04:30:00Z'); // Mon 9 March 10:00 IST
  });

  const ids = async (args: string[]) =>
    (await ok(admin, ['appointments', 'list', '--doctor', String(kolkataDoctor), ...args])).items.map((a: { id: number }) => a.id);

  it('lists from the start of the clinic’s today by default, soonest first', async () => {
    expect(await ids([])).toEqual([earlyToday, nextWeek]);
    // No filter: each appointment is counted from its own clinic's today.
    const all = (await ok(admin, ['appointments', 'list'])).items.map((a: { id: number }) => a.id);
    expect(all).toEqual([earlyToday, nextWeek]);
  });

  it('lists every one with --include-past, and from the day given with --from', async () => {
    expect(await ids(['--include-past'])).toEqual([yesterday, lastNight, earlyToday, nextWeek]);
    expect(await ids(['--from', 'yesterday'])).toEqual([yesterday, lastNight, earlyToday, nextWeek]);
    expect(await ids(['--from', 'tomorrow'])).toEqual([nextWeek]);
    expect(await ids(['--include-past', '--to', 'yesterday'])).toEqual([yesterday, lastNight]);
  });

  it('shows each appointment with its weekday and the clinic zone’s name', async () => {
    const plain = await admin.run(['appointments', 'list', '--doctor', String(kolkataDoctor)]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(column(plain.stdout, 1)).toEqual(['Mon 2026-03-02 00:30–00:50 IST', 'Mon 2026-03-09 10:00–10:20 IST']);
  });
});
