import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, ForbiddenError, ValidationError } from '../../src/domain/errors.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { localParts } from '../../src/domain/time.js';
import { addLeave } from '../../src/services/doctors.js';
import { getHours, setHours } from '../../src/services/hours.js';
import { createSlot, deleteSlot, freeSlots, generateSlots, listSlots } from '../../src/services/slots.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedBooking, slotCountsAreConsistent } from '../support/fixtures.js';
import { day, FROZEN_AT, shown } from '../support/clock.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const slotsOf = (doctorId: number) =>
  db.sql<{ id: number; starts_at: Date; ends_at: Date }>(`select id, starts_at, ends_at from slot where doctor_id = $1 and is_active order by starts_at`, [
    doctorId,
  ]);

const overlapping = async () =>
  (
    await db.sql(
      `select 1 from slot a join slot b on a.doctor_id = b.doctor_id and a.id < b.id and a.is_active and b.is_active and tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)`,
    )
  ).length;

describe('generating a schedule', () => {
  it('gives 09:00–17:00 local on both sides of the DST changes (Europe/Berlin, last Sundays of March and October)', async () => {
    const clinic = await makeClinic(db, { timezone: 'Europe/Berlin' });
    const { doctor } = await makeDoctor(db, clinic.id);
    // Berlin's clocks change on Sunday 29 March and Sunday 25 October 2026 (day 27 and day 237 after the frozen
    // today): the Friday before and the Monday after each.
    for (const [from, to] of [
      [day(25), day(28)],
      [day(235), day(238)],
    ] as const) {
      const result = await generateSlots(db.ctx(SYSTEM), { doctorIds: [doctor.id], from, to, days: 'mon-fri', start: '09:00', end: '17:00', length: '60m' });
      expect(result).toEqual({ created: 16, skipped: 0, skippedBy: {} }); // Friday and Monday, 8 slots each
    }
    const slots = await slotsOf(doctor.id);
    const local = slots.map((s) => localParts(new Date(s.starts_at), 'Europe/Berlin'));
    expect(new Set(local.map((p) => p.hour))).toEqual(new Set([9, 10, 11, 12, 13, 14, 15, 16]));
    const firstOf = (date: string) => slots.find((s) => new Date(s.starts_at).toISOString().startsWith(date))!;
    expect(new Date(firstOf(day(25)).starts_at).toISOString()).toBe(`${day(25)}T08:00:00.000Z`); // CET
    expect(new Date(firstOf(day(28)).starts_at).toISOString()).toBe(`${day(28)}T07:00:00.000Z`); // CEST
    expect(new Date(firstOf(day(235)).starts_at).toISOString()).toBe(`${day(235)}T07:00:00.000Z`);
    expect(new Date(firstOf(day(238)).starts_at).toISOString()).toBe(`${day(238)}T08:00:00.000Z`);
  });

  it('is idempotent, honours breaks and capacity, and --dry-run writes nothing', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const schedule = {
      doctorIds: [doctor.id],
      from: day(7),
      to: day(11),
      days: 'mon,wed,fri',
      start: '09:00',
      end: '12:00',
      length: '30m',
      breaks: ['10:00-10:30'],
      capacity: 3,
    };
    expect(await generateSlots(db.ctx(SYSTEM), { ...schedule, dryRun: true })).toEqual({ created: 15, skipped: 0, skippedBy: {}, dryRun: true });
    expect(await slotsOf(doctor.id)).toHaveLength(0);
    expect(await generateSlots(db.ctx(SYSTEM), schedule)).toEqual({ created: 15, skipped: 0, skippedBy: {} });
    expect(await generateSlots(db.ctx(SYSTEM), schedule)).toEqual({ created: 0, skipped: 15, skippedBy: { exists: 15 } });
    const local = (await slotsOf(doctor.id)).map((s) => localParts(new Date(s.starts_at), 'Asia/Kolkata'));
    const monday = Number(day(7).slice(8)); // its day of the month
    expect(local.filter((p) => p.day === monday).map((p) => `${p.hour}:${p.minute}`)).toEqual(['9:0', '9:30', '10:30', '11:0', '11:30']);
    expect(await db.sql(`select distinct capacity from slot where doctor_id = $1`, [doctor.id])).toEqual([{ capacity: 3 }]);
    const [audit] = await db.sql(`select after from audit_event where action = 'slot.generate' and after->'doctorIds' @> $1::jsonb order by id limit 1`, [
      JSON.stringify([doctor.id]),
    ]);
    expect(audit!.after).toMatchObject({ created: 15, from: day(7), to: day(11) });
  });

  it('skips slots inside leave and ones that overlap a different slot, counting each reason', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    await addLeave(db.ctx(SYSTEM), doctor.id, { from: day(36), to: day(36) });
    await createSlot(db.ctx(SYSTEM), { doctorId: doctor.id, start: `${day(35)} 09:10`, length: '15m' });
    const result = await generateSlots(db.ctx(SYSTEM), {
      doctorIds: [doctor.id],
      from: day(35),
      to: day(37),
      days: 'all',
      start: '09:00',
      end: '10:00',
      length: '20m',
    });
    // 09:10–09:25 overlaps both 09:00–09:20 and 09:20–09:40 of the first day.
    expect(result).toEqual({ created: 4, skipped: 5, skippedBy: { leave: 3, overlap: 2 } });
    expect(await overlapping()).toBe(0);
  });

  it('uses each doctor’s stored hours (split shifts) when no schedule is given', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    await expect(generateSlots(db.ctx(SYSTEM), { doctorIds: [doctor.id], from: day(63), to: day(69) })).rejects.toThrow(/no working hours/);
    await setHours(db.ctx(SYSTEM), doctor.id, {
      days: 'mon-fri',
      windows: [
        { start: '14:00', end: '15:00' },
        { start: '09:00', end: '10:00' },
      ],
      length: '20m',
    });
    await setHours(db.ctx(SYSTEM), doctor.id, { days: 'sat', windows: [{ start: '10:00', end: '11:00' }], length: '30m', capacity: 2 });
    const hours = await getHours(db.ctx(SYSTEM), doctor.id);
    expect(hours.windows.filter((w) => w.day === 'mon').map((w) => `${w.start}-${w.end}`)).toEqual(['09:00-10:00', '14:00-15:00']);
    const result = await generateSlots(db.ctx(SYSTEM), { doctorIds: [doctor.id], from: day(63), to: day(69) });
    expect(result.created).toBe(5 * 6 + 2); // weekdays: 3 + 3; Saturday: 2 of 30m; Sunday: none
    await expect(
      setHours(db.ctx(SYSTEM), doctor.id, {
        days: 'mon',
        windows: [
          { start: '09:00', end: '12:00' },
          { start: '11:00', end: '13:00' },
        ],
        length: '20m',
      }),
    ).rejects.toMatchObject({ field: 'start' });
  });

  it('two concurrent runs for the same doctor: the total is exact and nothing overlaps', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const schedule = { doctorIds: [doctor.id], from: day(93), to: day(123), days: 'mon-fri', start: '08:00', end: '18:00', length: '10m' };
    const expected = (await generateSlots(db.ctx(SYSTEM), { ...schedule, dryRun: true })).created;
    expect(expected).toBe(23 * 60); // 23 weekdays in those 31 days (Wednesday to Friday), 60 slots a day
    const [a, b] = await Promise.all([generateSlots(db.ctx(SYSTEM), schedule), generateSlots(db.ctx(SYSTEM), schedule)]);
    expect(a.created + b.created).toBe(expected);
    expect(a.skipped + b.skipped).toBe(expected);
    expect(await slotsOf(doctor.id)).toHaveLength(expected);
    expect(await overlapping()).toBe(0);
  });

  it('validates the whole run before writing, naming each flag', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const base = { doctorIds: [doctor.id], from: day(126), to: day(130), days: 'mon-fri', start: '09:00', end: '17:00', length: '20m' };
    const field = async (patch: object) => ((await generateSlots(db.ctx(SYSTEM), { ...base, ...patch }).catch((e) => e)) as ValidationError).field;
    expect(await field({ length: '3m' })).toBe('length');
    expect(await field({ length: '9h' })).toBe('length');
    expect(await field({ days: 'someday' })).toBe('days');
    expect(await field({ end: '08:00' })).toBe('end');
    expect(await field({ to: day(124) })).toBe('to');
    expect(await field({ breaks: ['lunch'] })).toBe('breaks[0]');
    expect(await field({ capacity: 101 })).toBe('capacity');
    expect(await field({ length: undefined })).toBe('length');
    expect(await field({ doctorIds: [999_999] })).toBe('doctorIds');
    expect(await slotsOf(doctor.id)).toHaveLength(0);
  });
});

describe('one slot', () => {
  it('refuses an overlap, naming the clashing slot; refuses the past and bad lengths', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const first = await createSlot(db.ctx(SYSTEM), { doctorId: doctor.id, start: `${day(154)} 09:00`, length: '20m', capacity: 2 });
    expect(first).toMatchObject({ startsAt: `${day(154)}T03:30:00.000Z`, endsAt: `${day(154)}T03:50:00.000Z`, capacity: 2, remaining: 2 });
    const clash = await createSlot(db.ctx(SYSTEM), { doctorId: doctor.id, start: `${day(154)} 09:10` }).catch((e) => e);
    expect(clash).toBeInstanceOf(ConflictError);
    expect(clash.message).toBe(`${shown(154)} 09:10 IST overlaps slot ${first.id}`);
    await expect(createSlot(db.ctx(SYSTEM), { doctorId: doctor.id, start: '2020-01-01 09:00' })).rejects.toMatchObject({
      field: 'start',
      message: expect.stringContaining('in the past'),
    });
    await expect(createSlot(db.ctx(SYSTEM), { doctorId: doctor.id, start: `${day(155)} 09:00`, end: `${day(155)} 09:02` })).rejects.toMatchObject({
      field: 'end',
    });
    await expect(
      createSlot(db.ctx(SYSTEM), { doctorId: doctor.id, start: `${day(155)} 09:00`, length: '20m', end: `${day(155)} 09:20` }),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it('only admins and the slot’s own doctor create or delete slots', async () => {
    const clinic = await makeClinic(db);
    const own = await makeDoctor(db, clinic.id);
    const other = await makeDoctor(db, clinic.id);
    const { actor: patient } = await makePatient(db);
    const slot = await createSlot(db.ctx(own.actor), { doctorId: own.doctor.id, start: `${day(185)} 09:00` });
    await expect(createSlot(db.ctx(other.actor), { doctorId: own.doctor.id, start: `${day(185)} 10:00` })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(createSlot(db.ctx(patient), { doctorId: own.doctor.id, start: `${day(185)} 10:00` })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(
      generateSlots(db.ctx(other.actor), {
        doctorIds: [own.doctor.id],
        from: day(186),
        to: day(186),
        days: 'all',
        start: '09:00',
        end: '10:00',
        length: '20m',
      }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(
      generateSlots(db.ctx(own.actor), {
        clinicId: clinic.id,
        from: day(186),
        to: day(186),
        days: 'all',
        start: '09:00',
        end: '10:00',
        length: '20m',
      }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(deleteSlot(db.ctx(other.actor), slot.id)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(deleteSlot(db.ctx(patient), slot.id)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(deleteSlot(db.ctx(own.actor), slot.id)).resolves.toMatchObject({ isActive: false });
  });

  it('deleting a booked slot is refused unless its bookings are cancelled, which frees them once and audits each', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const slot = await createSlot(db.ctx(SYSTEM), { doctorId: doctor.id, start: `${day(216)} 09:00`, capacity: 3 });
    const a = await seedBooking(db, slot.id, (await makePatient(db)).patient.id);
    const b = await seedBooking(db, slot.id, (await makePatient(db)).patient.id);
    await expect(deleteSlot(db.ctx(SYSTEM), slot.id)).rejects.toMatchObject({ field: 'cancelBookings' });
    const deleted = await deleteSlot(db.ctx(SYSTEM), slot.id, { cancelBookings: true });
    expect(deleted).toMatchObject({ isActive: false, bookedCount: 0, cancelledAppointmentIds: [a, b] });
    await expect(deleteSlot(db.ctx(SYSTEM), slot.id, { cancelBookings: true })).rejects.toBeInstanceOf(ConflictError);
    const events = await db.sql(
      `select action from audit_event where (entity = 'appointment' and entity_id in ($1, $2)) or (entity = 'slot' and entity_id = $3)`,
      [String(a), String(b), String(slot.id)],
    );
    expect(events.map((e) => e.action).sort()).toEqual(['appointment.cancel', 'appointment.cancel', 'slot.create', 'slot.delete']);
    expect(await slotCountsAreConsistent(db)).toBe(true);
  });
});

describe('free slots', () => {
  it('lists future, active, not-full slots outside leave, soonest first, with places left', async () => {
    const clinic = await makeClinic(db, { city: 'Kochi' });
    const { doctor } = await makeDoctor(db, clinic.id, { specialty: 'dermatology' });
    const open = await createSlot(db.ctx(SYSTEM), { doctorId: doctor.id, start: `${day(280)} 09:00`, capacity: 2 });
    const full = await createSlot(db.ctx(SYSTEM), { doctorId: doctor.id, start: `${day(280)} 10:00` });
    const deleted = await createSlot(db.ctx(SYSTEM), { doctorId: doctor.id, start: `${day(280)} 11:00` });
    await createSlot(db.ctx(SYSTEM), { doctorId: doctor.id, start: `${day(281)} 09:00` });
    const later = await createSlot(db.ctx(SYSTEM), { doctorId: doctor.id, start: `${day(282)} 09:00` });
    await seedBooking(db, full.id, (await makePatient(db)).patient.id);
    await seedBooking(db, open.id, (await makePatient(db)).patient.id);
    await deleteSlot(db.ctx(SYSTEM), deleted.id);
    await addLeave(db.ctx(SYSTEM), doctor.id, { from: day(281), to: day(281) });
    // A past slot, written directly (the service refuses to create one).
    await db.sql(
      `insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity) values ($1, $2, $3::timestamptz - interval '2 hours', $3::timestamptz - interval '1 hour', 1)`,
      [doctor.id, clinic.id, db.clock.now()],
    );

    const found = await freeSlots(db.ctx(SYSTEM), { specialty: 'Dermatology', city: 'KOCHI', from: '2020-01-01', to: day(306) });
    expect(found.items.map((s) => s.id)).toEqual([open.id, later.id]);
    expect(found.items[0]).toMatchObject({ remaining: 1, bookedCount: 1, capacity: 2, doctorName: doctor.name, clinicName: clinic.name, city: 'Kochi' });
    expect(found.total).toBe(2);
    const listed = await listSlots(db.ctx(SYSTEM), { doctorId: doctor.id, from: day(280), to: day(280) });
    expect(listed.items.map((s) => s.id)).toEqual([open.id, full.id]);
  });

  it("without dates, searches the next 14 days from the clock's now, and the window moves with the clock", async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const at = (n: number) => createSlot(db.ctx(SYSTEM), { doctorId: doctor.id, start: `${day(n)} 09:00` });
    const [soon, inAWeek, outside] = [await at(1), await at(7), await at(20)];
    const ids = async () => (await freeSlots(db.ctx(SYSTEM), { doctorId: doctor.id })).items.map((s) => s.id);
    expect(await ids()).toEqual([soon.id, inAWeek.id]);
    db.clock.advance('6d'); // past the first slot's start; the third comes within 14 days
    try {
      expect(await ids()).toEqual([inAWeek.id, outside.id]);
    } finally {
      db.clock.set(FROZEN_AT);
    }
  });
});

describe('free slots, page by page', () => {
  // The search picks doctors first and reads at most limit + offset slots of each; this checks that every page
  // and every total equal those of the plain query, over doctors with and without leave (adjacent leave, past
  // leave, leave after the window), deleted and full slots, slots of 1 and 2 hours and every filter.
  it('agrees with the plain query on every page, for every filter', async () => {
    const clinics = [
      await makeClinic(db, { city: 'Alphaville', timezone: 'UTC' }),
      await makeClinic(db, { city: 'Alphaville', timezone: 'UTC' }),
      await makeClinic(db, { city: 'Betaburg', timezone: 'UTC' }),
    ];
    const doctors = [];
    for (let i = 0; i < 6; i++) doctors.push((await makeDoctor(db, clinics[i % 3]!.id, { specialty: i % 2 ? 'nephrology' : 'oncology' })).doctor);
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const capacityOne: number[] = [];
    for (const doctor of doctors) {
      const rows = await db.sql<{ id: number; capacity: number }>(
        `insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity)
         select $1, $2, t, t + make_interval(hours => case when h % 3 = 0 then 2 else 1 end), 1 + (h % 2)
           from generate_series(0, 11) day cross join generate_series(0, 9) h
           cross join lateral (select '${day(338)}T06:00Z'::timestamptz + make_interval(days => day, hours => h * 2) as t) x
         returning id, capacity`,
        [doctor.id, doctor.clinicId],
      );
      for (const row of rows) {
        if (random() < 0.1) await db.sql(`update slot set is_active = false where id = $1`, [row.id]);
        else if (row.capacity === 1 && random() < 0.15) capacityOne.push(row.id);
      }
    }
    for (const slotId of capacityOne.slice(0, 8)) await seedBooking(db, slotId, (await makePatient(db)).patient.id);
    const leave = (doctorId: number, from: string, to: string) =>
      db.sql(`insert into doctor_leave (doctor_id, starts_at, ends_at) values ($1, $2, $3)`, [doctorId, from, to]);
    await leave(doctors[0]!.id, `${day(340)}T00:00Z`, `${day(341)}T00:00Z`);
    await leave(doctors[1]!.id, `${day(342)}T10:00Z`, `${day(342)}T11:00Z`);
    await leave(doctors[1]!.id, `${day(342)}T11:00Z`, `${day(342)}T12:00Z`);
    await leave(doctors[2]!.id, `${day(124)}T00:00Z`, `${day(125)}T00:00Z`);
    await leave(doctors[3]!.id, `${day(369)}T00:00Z`, `${day(371)}T00:00Z`);
    await db.sql(`update doctor set is_active = false where id = $1`, [doctors[4]!.id]);

    const plain = (f: { specialty?: string; city?: string; clinicId?: number; doctorId?: number }) =>
      db.sql<{ id: number }>(
        `select s.id from slot s join doctor d on d.id = s.doctor_id join clinic c on c.id = d.clinic_id
          where s.is_active and s.booked_count < s.capacity and s.starts_at >= '${day(339)}T00:00Z' and s.starts_at < '${day(348)}T00:00Z'
            and d.is_active and c.is_active
            and ($1::text is null or lower(d.specialty) = lower($1)) and ($2::text is null or lower(c.city) = lower($2))
            and ($3::int is null or d.clinic_id = $3) and ($4::int is null or d.id = $4)
            and not exists (select 1 from doctor_leave l where l.doctor_id = s.doctor_id and l.starts_at < s.ends_at and l.ends_at > s.starts_at)
          order by s.starts_at, s.id`,
        [f.specialty ?? null, f.city ?? null, f.clinicId ?? null, f.doctorId ?? null],
      );
    const filters = [
      {},
      { specialty: 'Oncology' },
      { city: 'ALPHAVILLE' },
      { specialty: 'nephrology', city: 'betaburg' },
      { clinicId: clinics[0]!.id },
      { doctorId: doctors[1]!.id },
      { doctorId: doctors[4]!.id },
    ];
    let pages = 0;
    for (const filter of filters) {
      const expected = (await plain(filter)).map((r) => r.id);
      for (const limit of [1, 7, 1000]) {
        for (let offset = 0; offset <= expected.length + 1 && (limit > 1 || offset < 4); offset += limit) {
          const page = await freeSlots(db.ctx(SYSTEM), { ...filter, from: day(339), to: day(347), limit, offset });
          expect({ filter, limit, offset, ids: page.items.map((s) => s.id), total: page.total }).toEqual({
            filter,
            limit,
            offset,
            ids: expected.slice(offset, offset + limit),
            total: expected.length,
          });
          pages++;
        }
      }
    }
    expect(pages).toBeGreaterThan(100);
    expect((await plain({ specialty: 'oncology' })).length).toBeGreaterThan(50);
  });
});
