import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initialise } from '../../../src/services/init.js';
import { cliFor, refused, runCli } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedSlot, slotCountsAreConsistent, tokenFor } from '../../support/fixtures.js';
import { SYSTEM } from '../../../src/domain/roles.js';
import { day, FROZEN_AT, fromNow, shown } from '../../support/clock.js';

let db: TestDatabase;
let admin: ReturnType<typeof cliFor>;
beforeAll(async () => {
  db = await createTestDatabase();
  await initialise(db.ctx(SYSTEM), { adminEmail: 'admin@example.org', adminName: 'Ada Admin', adminPassword: 'S3cure-pass!' });
  admin = cliFor(db.url);
  expect((await admin.run(['login', '--email', 'admin@example.org', '--password-stdin'], { input: 'S3cure-pass!\n' })).code).toBe(0);
});
afterAll(async () => {
  expect(await slotCountsAreConsistent(db)).toBe(true);
  await db.drop();
});

const as = (token: string, args: string[]) => runCli(args, { env: { DATABASE_URL: db.url, ASCEND_TOKEN: token, XDG_CONFIG_HOME: '/nonexistent' } });

describe('ascend appointments book', () => {
  it('20 concurrent book processes on a capacity-1 slot: exactly one succeeds, the others exit 4 saying it is full', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const slotId = await seedSlot(db, doctor.id, `${day(7)}T04:00:00Z`, 20, 1);
    const patients = await Promise.all(Array.from({ length: 20 }, () => makePatient(db)));
    const tokens = await Promise.all(patients.map((p) => tokenFor(db, { id: p.patient.userId, role: 'patient' })));
    const results = await Promise.all(tokens.map((t) => as(t, ['appointments', 'book', '--slot', String(slotId), '--json'])));
    const ok = results.filter((r) => r.code === 0);
    expect(ok).toHaveLength(1);
    for (const r of results.filter((r) => r.code !== 0)) refused(r, 4, `--slot: slot ${slotId} is full (1/1)`);
    expect(ok[0]!.json()).toMatchObject({ slotId, status: 'booked' });
    expect(await db.sql(`select booked_count from slot where id = $1`, [slotId])).toEqual([{ booked_count: 1 }]);
  });

  it('books, reschedules, cancels and lists through the CLI with the documented exit codes', async () => {
    const clinic = await makeClinic(db, { timezone: 'Europe/Berlin' });
    const { doctor, actor: doctorActor } = await makeDoctor(db, clinic.id);
    const first = await seedSlot(db, doctor.id, `${day(36)}T07:00:00Z`, 30, 2);
    const second = await seedSlot(db, doctor.id, `${day(37)}T07:00:00Z`, 30, 2);
    const { patient } = await makePatient(db);
    const token = await tokenFor(db, { id: patient.userId, role: 'patient' });
    const doctorToken = await tokenFor(db, { id: doctorActor.kind === 'user' ? doctorActor.id : 0, role: 'doctor' });

    const booked = await as(token, ['appointments', 'book', '--slot', String(first), '--reason', 'chest pain', '--json']);
    expect(booked.code, booked.stderr).toBe(0);
    const id = booked.json().id;
    expect(booked.json()).toMatchObject({ reason: 'chest pain', timezone: 'Europe/Berlin', startsAt: `${day(36)}T07:00:00.000Z` });
    const human = await as(token, ['appointments', 'show', String(id)]);
    expect(human.stdout).toContain(`${shown(36)} 09:00–09:30 CEST`);

    expect((await as(doctorToken, ['appointments', 'book', '--slot', String(first), '--patient', String(patient.id)])).code).toBe(6);
    expect((await as(token, ['appointments', 'book', '--slot', String(first)])).code).toBe(4);
    expect((await as(token, ['appointments', 'book', '--slot', '999999'])).code).toBe(3);
    expect((await as(token, ['appointments', 'book'])).stderr).toBe('error: --slot: is required\n');

    const moved = await as(token, ['appointments', 'reschedule', String(id), '--slot', String(second), '--json']);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.json().slotId).toBe(second);
    const listed = await as(doctorToken, ['appointments', 'list', '--json']);
    expect(listed.json().items.map((a: { id: number }) => a.id)).toEqual([id]);
    const cancelled = await as(token, ['appointments', 'cancel', String(id), '--reason', 'better now', '--json']);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled', cancelReason: 'better now' });
    const again = await as(token, ['appointments', 'cancel', String(id)]);
    expect(again.code).toBe(4);
    expect(again.stderr).toBe(`error: appointment ${id} is already cancelled\n`);
    const early = await as(doctorToken, ['appointments', 'complete', String(id)]);
    expect(early.code).toBe(4);
  });
});

describe('ASCEND_NOW: the instant the CLI runs at (a testing aid)', () => {
  it('is the "now" of every rule: a cancel allowed at one instant is refused at a later one', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    // Two hours and ten minutes ahead: patients may cancel for ten more minutes (the cut-off is 2h).
    const start = fromNow(130 * 60_000);
    const slotId = await seedSlot(db, doctor.id, start, 20, 1);
    const { patient } = await makePatient(db);
    const token = await tokenFor(db, { id: patient.userId, role: 'patient' });
    const booked = await as(token, ['appointments', 'book', '--slot', String(slotId), '--json']);
    expect(booked.code, booked.stderr).toBe(0);
    const id = booked.json().id;
    const lateEnv = { DATABASE_URL: db.url, ASCEND_TOKEN: token, XDG_CONFIG_HOME: '/nonexistent', ASCEND_NOW: fromNow(10 * 60_000 + 1000) };
    refused(
      await runCli(['appointments', 'cancel', String(id)], { env: lateEnv }),
      4,
      'too late to cancel online: patients may do so until 120 minutes before the start; ask the clinic',
    );
    const inTime = await as(token, ['appointments', 'cancel', String(id), '--json']);
    expect(inTime.code, inTime.stderr).toBe(0);
    expect(inTime.json()).toMatchObject({ status: 'cancelled', cancelledAt: FROZEN_AT });
  });

  it('is the clock sessions are opened and judged on: a login at one instant has ended idle 2 hours later', async () => {
    const cli = cliFor(db.url);
    expect((await cli.run(['login', '--email', 'admin@example.org', '--password-stdin'], { input: 'S3cure-pass!\n' })).code).toBe(0);
    expect((await cli.run(['whoami'])).code).toBe(0);
    const later = await cli.run(['whoami'], { env: { ASCEND_NOW: fromNow(120 * 60_000) } });
    refused(later, 5, 'your session ended (idle for more than 2 h): run ascend login');
  });

  it('a value that is not an ISO 8601 time with an offset is exit 2 naming ASCEND_NOW, and nothing runs', async () => {
    for (const args of [['users', 'list'], ['whoami'], ['slots', 'free']]) {
      refused(
        await admin.run(args, { env: { ASCEND_NOW: 'yesterday' } }),
        2,
        'ASCEND_NOW: must be an ISO 8601 time with an offset, such as 2026-03-02T09:00:00Z (got "yesterday")',
      );
    }
  });
});

/** Unfolds RFC 5545 content lines (CRLF followed by a space continues the line). */
function unfold(ics: string): string[] {
  return ics.replace(/\r\n /g, '').split('\r\n').filter(Boolean);
}

describe('ascend appointments export --ics', () => {
  it('writes RFC 5545 that parses back: CRLF lines of at most 75 octets, escaped text, UTC times', async () => {
    const clinic = await makeClinic(db, { name: 'Clinic; with, commas' });
    const { doctor } = await makeDoctor(db, clinic.id);
    const slotA = await seedSlot(db, doctor.id, `${day(70)}T04:30:00Z`, 30, 1);
    const slotB = await seedSlot(db, doctor.id, `${day(71)}T04:30:00Z`, 30, 1);
    const { patient } = await makePatient(db);
    const token = await tokenFor(db, { id: patient.userId, role: 'patient' });
    const long = `A reason long enough to need folding: ${'ü'.repeat(60)}`;
    expect((await as(token, ['appointments', 'book', '--slot', String(slotA), '--reason', long])).code).toBe(0);
    expect((await as(token, ['appointments', 'book', '--slot', String(slotB)])).code).toBe(0);

    const result = await as(token, ['appointments', 'export', '--ics']);
    expect(result.code, result.stderr).toBe(0);
    const raw = result.stdout;
    expect(raw.endsWith('\r\n')).toBe(true);
    for (const line of raw.split('\r\n')) expect(Buffer.byteLength(line, 'utf8')).toBeLessThanOrEqual(75);
    expect(raw.split('\r\n').some((l) => l.startsWith(' '))).toBe(true); // something was folded

    const lines = unfold(raw);
    expect(lines[0]).toBe('BEGIN:VCALENDAR');
    expect(lines.at(-1)).toBe('END:VCALENDAR');
    expect(lines).toContain('VERSION:2.0');
    const events = lines.join('\n').split('BEGIN:VEVENT').slice(1);
    expect(events).toHaveLength(2);
    const props = (event: string) =>
      Object.fromEntries(
        event
          .split('\n')
          .filter((l) => l.includes(':'))
          .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]),
      );
    const first = props(events[0]!);
    const compact = day(70).replaceAll('-', '');
    expect(first.DTSTART).toBe(`${compact}T043000Z`);
    expect(first.DTEND).toBe(`${compact}T050000Z`);
    expect(first.LOCATION).toBe('Clinic\\; with\\, commas');
    expect(first.DESCRIPTION).toContain(`Reason: ${long.replace(/,/g, '\\,')}`);
    expect(first.STATUS).toBe('CONFIRMED');
    expect(first.UID).toMatch(/^appointment-\d+@ascend$/);
  });
});
