// `--all` on a list: every record, across as many pages as it takes, for scripts (tab-separated lines, or one
// JSON document), and on every list command alike.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cli, initAdmin } from '../support/cli.js';
import { day } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor } from '../support/fixtures.js';

let db: TestDatabase;
let admin: Cli;
let doctorId: number;
/** More than the 1000 records a page holds, so --all must read two pages and a bit. */
const SLOTS = 2003;

beforeAll(async () => {
  db = await createTestDatabase();
  admin = await initAdmin(db.url);
  const clinic = await makeClinic(db);
  doctorId = (await makeDoctor(db, clinic.id)).doctor.id;
  await db.sql(
    `insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity)
     select $1, clinic_id, $2::timestamptz + make_interval(mins => 20 * n), $2::timestamptz + make_interval(mins => 20 * n + 20), 1
     from doctor, generate_series(0, $3 - 1) n where doctor.id = $1`,
    [doctorId, `${day(1)}T00:00:00Z`, SLOTS],
  );
});
afterAll(() => db.drop());

const slotIds = async () => (await db.sql<{ id: number }>('select id from slot where doctor_id = $1 order by starts_at, id', [doctorId])).map((r) => r.id);
const window = () => ['--doctor', String(doctorId), '--from', day(0), '--to', day(60)];

describe('--all', () => {
  it('prints every record across pages as tab-separated lines, in order, once each', async () => {
    const result = await admin.run(['slots', 'list', ...window(), '--all']);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]?.split('\t')[0]).toBe('ID');
    expect(lines.slice(1).map((line) => Number(line.split('\t')[0]))).toEqual(await slotIds());
  });

  it('with --json prints one document of the shape of a page, holding every record', async () => {
    const result = await admin.run(['slots', 'list', ...window(), '--all', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const page = result.json<{ items: { id: number }[]; total: number; limit: number; offset: number }>();
    expect(page.items.map((s) => s.id)).toEqual(await slotIds());
    expect({ total: page.total, limit: page.limit, offset: page.offset }).toEqual({ total: SLOTS, limit: SLOTS, offset: 0 });
  });

  it('without it a list is still one page, and --all with --limit or --offset is refused', async () => {
    expect((await admin.run(['slots', 'list', ...window(), '--json'])).json().items).toHaveLength(50);
    const both = await admin.run(['slots', 'list', '--all', '--limit', '5']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/option '--all' cannot be used with option '--limit <n>'/);
  });

  it('an empty list with --json is an empty page', async () => {
    const result = await admin.run(['clinics', 'list', '--search', 'no such clinic', '--all', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toEqual({ items: [], total: 0, limit: 0, offset: 0 });
  });

  it('is offered by every list command', async () => {
    for (const command of [
      ['users', 'list'],
      ['clinics', 'list'],
      ['doctors', 'list'],
      ['doctors', 'leave', 'list'],
      ['patients', 'list'],
      ['patients', 'history'],
      ['slots', 'list'],
      ['slots', 'free'],
      ['appointments', 'list'],
      ['report', 'utilisation'],
      ['sessions', 'list'],
    ]) {
      const help = await admin.run([...command, '--help']);
      expect(help.code, command.join(' ')).toBe(0);
      expect(help.stdout, command.join(' ')).toMatch(/--all\s+every one/);
    }
  });
});
