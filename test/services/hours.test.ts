import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../src/domain/roles.js';
import { getHours, setHours } from '../../src/services/hours.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor } from '../support/fixtures.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const windowsByDay = async (doctorId: number) => {
  const byDay: Record<string, string[]> = {};
  for (const w of (await getHours(db.ctx(SYSTEM), doctorId)).windows) {
    byDay[w.day] = [...(byDay[w.day] ?? []), `${w.start}-${w.end}/${w.slotMinutes}m x${w.capacity}`];
  }
  return byDay;
};

describe('working hours', () => {
  it('setting some days replaces their windows, even with new windows over the old ones, and leaves the other days', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    await setHours(db.ctx(SYSTEM), doctor.id, { days: 'mon-tue', windows: [{ start: '09:00', end: '13:00' }], length: '20m' });
    await setHours(db.ctx(SYSTEM), doctor.id, { days: 'wed', windows: [{ start: '14:00', end: '16:00' }], length: '30m', capacity: 2 });

    // 09:00–12:00 lies over the stored 09:00–13:00: the database refuses overlapping windows of one day at once.
    const after = await setHours(db.ctx(SYSTEM), doctor.id, {
      days: 'mon',
      windows: [
        { start: '12:30', end: '13:30' },
        { start: '09:00', end: '12:00' },
      ],
      length: '15m',
    });

    const expected = {
      mon: ['09:00-12:00/15m x1', '12:30-13:30/15m x1'],
      tue: ['09:00-13:00/20m x1'],
      wed: ['14:00-16:00/30m x2'],
    };
    expect(await windowsByDay(doctor.id)).toEqual(expected);
    expect(after.windows.map((w) => `${w.day} ${w.start}-${w.end}`)).toEqual(['mon 09:00-12:00', 'mon 12:30-13:30', 'tue 09:00-13:00', 'wed 14:00-16:00']);
    const [event] = await db.sql<{ before: { windows: { day: string; start: string }[] }; after: { windows: { day: string; start: string }[] } }>(
      `select before, after from audit_event where action = 'hours.set' and entity_id = $1 order by id desc limit 1`,
      [String(doctor.id)],
    );
    expect(event?.before.windows.filter((w) => w.day === 'mon').map((w) => w.start)).toEqual(['09:00']);
    expect(event?.after.windows.filter((w) => w.day === 'mon').map((w) => w.start)).toEqual(['09:00', '12:30']);
  });

  it('a window may end at midnight (24:00), and reads back as it was set', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    await setHours(db.ctx(SYSTEM), doctor.id, { days: 'sun', windows: [{ start: '20:00', end: '24:00' }], length: '1h' });
    expect(await windowsByDay(doctor.id)).toEqual({ sun: ['20:00-24:00/60m x1'] });
  });
});
