// Appointment slots: one at a time, a schedule in bulk, an import, the free-slot search and deletion.
// Bulk writes go through one `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING` per batch: the
// exclusion constraint on a doctor's active slot ranges is the arbiter, so concurrent runs never overlap and
// a slot written by another run meanwhile is skipped, not duplicated. Nothing is loaded into the identity map.
import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { slotMinutes } from '../domain/durations.js';
import { ConflictError, NotFoundError, ValidationError, type FieldIssue } from '../domain/errors.js';
import { isAdmin, requireRole, type Actor } from '../domain/roles.js';
import { id as idSchema, type Page } from '../domain/schemas/common.js';
import {
  capacity as capacitySchema,
  createSlotInput,
  deleteSlotInput,
  freeSlotsInput,
  generateSlotsInput,
  listSlotsInput,
  type CreateSlotInput,
  type DeleteSlotInput,
  type FreeSlotsInput,
  type GenerateSlotsInput,
  importRow,
  type ImportRow,
  type ListSlotsInput,
} from '../domain/schemas/slots.js';
import { calendarDays, clockText, formatLocal, localParts, parseCalendarDate, parseClock, parseDateInput, parseWeekdays, zonedTime } from '../domain/time.js';
import { fieldIssues, parseInput, unstorableText } from '../domain/validation.js';
import { iso, type BulkResult, type Instant, type SlotView } from '../domain/views.js';
import { audit } from './audit.js';
import { releasePlaces } from './booking/release.js';
import { assertMayManageDoctor } from './doctors.js';
import { windowsOf, type Window } from './hours.js';
import { lockDoctorsAsRead, transaction } from './locks.js';
import { doctorIdOf, intArray, pageOfRows, preparedQuery, query } from './support.js';

// ---------------------------------------------------------------------------------------------------------
// Reading slots

interface SlotRow {
  id: number;
  doctor_id: number;
  doctor_name: string;
  specialty: string;
  clinic_id: number;
  clinic_name: string;
  city: string;
  timezone: string;
  starts_at: Instant;
  ends_at: Instant;
  capacity: number;
  booked_count: number;
  is_active: boolean;
  total?: string | number;
}

const slotView = (r: SlotRow): SlotView => ({
  id: r.id,
  doctorId: r.doctor_id,
  doctorName: r.doctor_name,
  specialty: r.specialty,
  clinicId: r.clinic_id,
  clinicName: r.clinic_name,
  city: r.city,
  timezone: r.timezone,
  startsAt: iso(r.starts_at)!,
  endsAt: iso(r.ends_at)!,
  capacity: r.capacity,
  bookedCount: r.booked_count,
  remaining: Math.max(0, r.capacity - r.booked_count),
  isActive: r.is_active,
});

const SLOT_COLUMNS = `s.id, s.doctor_id, u.name as doctor_name, d.specialty, s.clinic_id, c.name as clinic_name, c.city, c.timezone,
  s.starts_at, s.ends_at, s.capacity, s.booked_count, s.is_active`;
const SLOT_JOINS = `from slot s join doctor d on d.id = s.doctor_id join "user" u on u.id = d.user_id join clinic c on c.id = s.clinic_id`;

export async function getSlot(em: EntityManager, _actor: Actor, id: number): Promise<SlotView> {
  const [row] = await query<SlotRow>(em, `select ${SLOT_COLUMNS} ${SLOT_JOINS} where s.id = ?`, [parseInput(idSchema, id)]);
  if (!row) throw new NotFoundError('slot', id);
  return slotView(row);
}

/** The zone that date flags are read in: the doctor's or the clinic's, or UTC when neither is given. */
async function zoneFor(em: EntityManager, doctorId?: number, clinicId?: number): Promise<string> {
  if (doctorId) {
    const [r] = await query<{ timezone: string }>(em, 'select c.timezone from doctor d join clinic c on c.id = d.clinic_id where d.id = ?', [doctorId]);
    if (!r) throw new NotFoundError('doctor', doctorId, 'doctorId');
    return r.timezone;
  }
  if (clinicId) {
    const [r] = await query<{ timezone: string }>(em, 'select timezone from clinic where id = ?', [clinicId]);
    if (!r) throw new NotFoundError('clinic', clinicId, 'clinicId');
    return r.timezone;
  }
  return 'UTC';
}

/** All slots in a range (staff view): soonest first, with booked counts. Any signed-in user may look. */
export async function listSlots(em: EntityManager, _actor: Actor, raw: ListSlotsInput): Promise<Page<SlotView>> {
  const input = parseInput(listSlotsInput, raw);
  const tz = await zoneFor(em, input.doctorId, input.clinicId);
  const where: string[] = [];
  const params: unknown[] = [];
  if (!input.includeInactive) where.push('s.is_active');
  if (input.doctorId) {
    where.push('s.doctor_id = ?');
    params.push(input.doctorId);
  }
  if (input.clinicId) {
    where.push('s.clinic_id = ?');
    params.push(input.clinicId);
  }
  if (input.from) {
    where.push('s.starts_at >= ?');
    params.push(parseDateInput(input.from, tz, 'from').instant);
  }
  if (input.to) {
    where.push('s.starts_at < ?');
    params.push(parseDateInput(input.to, tz, 'to', { endOfDay: true }).instant);
  }
  const { rows, total } = await pageOfRows<SlotRow>(
    em,
    `select ${SLOT_COLUMNS}, count(*) over () as total ${SLOT_JOINS} where ${where.join(' and ') || 'true'} order by s.starts_at, s.id`,
    params,
    input.limit,
    input.offset,
  );
  return { items: rows.map(slotView), total, limit: input.limit, offset: input.offset };
}

/**
 * Bookable slots: active, in the future, not full, of an active doctor in an active clinic, and not inside the
 * doctor's leave; soonest first (see freeSlotsQuery for how it stays fast).
 */
export async function freeSlots(em: EntityManager, _actor: Actor, raw: FreeSlotsInput): Promise<Page<SlotView>> {
  const input = parseInput(freeSlotsInput, raw);
  const tz = await zoneFor(em, input.doctorId, input.clinicId);
  const now = new Date();
  const from = input.from ? parseDateInput(input.from, tz, 'from').instant : now;
  const to = input.to ? parseDateInput(input.to, tz, 'to', { endOfDay: true }).instant : new Date(Math.max(from.getTime(), now.getTime()) + 14 * 86_400_000);
  const filter = { ...input, from: from < now ? now : from, to };
  const run = async (limit: number, offset: number) => {
    const { sql, params } = freeSlotsQuery(filter, limit, offset);
    // Prepared, so PostgreSQL plans each shape of the search once per connection, not once per call.
    return preparedQuery<SlotRow>(em, freeStatementName(sql), sql, params);
  };
  const rows = await run(input.limit, input.offset);
  const total = rows.length || !input.offset ? Number(rows[0]?.total ?? 0) : Number((await run(1, 0))[0]?.total ?? 0);
  return { items: rows.map(slotView), total, limit: input.limit, offset: input.offset };
}

// One prepared statement per shape of the search (which filters are given): a handful of texts.
const freeStatementNames = new Map<string, string>();
function freeStatementName(sql: string): string {
  let name = freeStatementNames.get(sql);
  if (!name) {
    name = `ascend_free_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`;
    freeStatementNames.set(sql, name);
  }
  return name;
}

/**
 * The free-slot search, shared with the bench (which times the same SQL through pg). Future slots are always
 * at their doctor's clinic (moving a doctor moves them), so every filter but the dates picks doctors first
 * (`docs`, a handful). Then, per doctor, an index-only scan of the partial, covering slot_free_cover_idx in
 * starts_at order: the page needs at most limit + offset slots of each, and the total counts the same rows.
 * Leave is checked only for doctors with leave ending after `from` (few), so a plan made for any parameters
 * is as good as one made for these: PostgreSQL keeps the prepared statement's generic plan and does not
 * replan on every call (replanning cost more than running it).
 */
export function freeSlotsQuery(
  f: { specialty?: string; city?: string; clinicId?: number; doctorId?: number; from: Date; to: Date },
  limit: number,
  offset: number,
) {
  // Placeholders are positional: `p` adds a parameter where its `?` appears, so text order is push order.
  const params: unknown[] = [];
  const p = (value: unknown, cast = '') => {
    params.push(value);
    return `?${cast}`;
  };
  const hasLeave = `exists (select 1 from doctor_leave l where l.doctor_id = d.id and l.ends_at > ${p(f.from, '::timestamptz')})`;
  const doctorWhere = ['d.is_active', 'c.is_active'];
  if (f.specialty) doctorWhere.push(`lower(d.specialty) = lower(${p(f.specialty)})`);
  if (f.city) doctorWhere.push(`lower(c.city) = lower(${p(f.city)})`);
  if (f.clinicId) doctorWhere.push(`d.clinic_id = ${p(f.clinicId)}`);
  if (f.doctorId) doctorWhere.push(`d.id = ${p(f.doctorId)}`);
  const free = () => `s.doctor_id = docs.id and s.is_active and s.booked_count < s.capacity
                  and s.starts_at >= ${p(f.from, '::timestamptz')} and s.starts_at < ${p(f.to, '::timestamptz')}
                  and (not docs.has_leave or not exists (select 1 from doctor_leave l where l.doctor_id = s.doctor_id
                         and tstzrange(l.starts_at, l.ends_at) && tstzrange(s.starts_at, s.ends_at)))`;
  // From here in text order (template parts are evaluated left to right). Every slot column comes from the
  // index (is_active is its predicate), the doctor's name with `docs`: no row is fetched twice.
  const sql = `with docs as materialized (
          select d.id, u.name as doctor_name, d.specialty, ${hasLeave} as has_leave
            from doctor d join clinic c on c.id = d.clinic_id join "user" u on u.id = d.user_id
           where ${doctorWhere.join(' and ')}),
        page as (
          select f.* from docs cross join lateral (
            select s.id, s.doctor_id, s.clinic_id, s.starts_at, s.ends_at, s.capacity, s.booked_count from slot s where ${free()}
             order by s.starts_at limit ${p(limit, '::int')} + ${p(offset, '::int')}) f
           order by f.starts_at, f.id limit ${p(limit, '::int')} offset ${p(offset, '::int')})
        select page.id, page.doctor_id, docs.doctor_name, docs.specialty, page.clinic_id, c.name as clinic_name, c.city, c.timezone,
               page.starts_at, page.ends_at, page.capacity, page.booked_count, true as is_active,
               (select count(*) from docs join slot s on ${free()}) as total
          from page join docs on docs.id = page.doctor_id join clinic c on c.id = page.clinic_id
         order by page.starts_at, page.id`;
  return { sql, params };
}

// ---------------------------------------------------------------------------------------------------------
// Planning and writing slots

interface DoctorRow {
  id: number;
  clinic_id: number;
  timezone: string;
  is_active: boolean;
}

/**
 * Step 1 of the lock order (./locks.ts) for a path adding slots: the doctors FOR SHARE, in id order, so that
 * what was read of them before the transaction (active, in which clinic: the slots' clinic and zone) stays
 * true until commit; a doctor deactivated or moved since is a conflict to run again, not a slot in the
 * wrong clinic or of a closed doctor.
 */
async function holdDoctorsAsRead(tx: EntityManager, doctors: DoctorRow[], field: string): Promise<void> {
  const now = await lockDoctorsAsRead(
    tx,
    doctors.map((d) => d.id),
  );
  for (const d of doctors) {
    const current = now.get(d.id);
    if (!current?.is_active) throw new ConflictError(`doctor ${d.id} (or their clinic) was deactivated meanwhile`, field);
    if (current.clinic_id !== d.clinic_id) throw new ConflictError(`doctor ${d.id} moved to clinic ${current.clinic_id} meanwhile; run this again`, field);
  }
}

async function doctorsById(em: EntityManager, ids: number[]): Promise<Map<number, DoctorRow>> {
  const rows = await query<DoctorRow>(
    em,
    'select d.id, d.clinic_id, c.timezone, d.is_active and c.is_active as is_active from doctor d join clinic c on c.id = d.clinic_id where d.id = any(?::int[])',
    [intArray(ids)],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

export interface Candidate {
  doctorId: number;
  clinicId: number;
  startsAt: number;
  endsAt: number;
  capacity: number;
  /** Where it came from, for messages: an import line. */
  line?: number;
}

/** Sorted, non-overlapping intervals of one doctor (active slots and leave are both disjoint per doctor). */
class Intervals {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  readonly ids: number[] = [];
  add(start: number, end: number, id = 0) {
    this.starts.push(start);
    this.ends.push(end);
    this.ids.push(id);
  }
  /** The index of an interval overlapping [start, end), or -1. */
  find(start: number, end: number): number {
    let lo = 0;
    let hi = this.starts.length; // first index with starts >= end
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! < end) lo = mid + 1;
      else hi = mid;
    }
    const i = lo - 1;
    return i >= 0 && this.ends[i]! > start ? i : -1;
  }
  startOf(i: number) {
    return this.starts[i]!;
  }
  endOf(i: number) {
    return this.ends[i]!;
  }
}

async function intervalsOf(em: EntityManager, table: 'slot' | 'doctor_leave', doctorIds: number[], from: number, to: number) {
  const active = table === 'slot' ? 'and is_active' : '';
  const rows = await query<{ id: number; doctor_id: number; s: string; e: string }>(
    em,
    `select id, doctor_id, (extract(epoch from starts_at) * 1000)::bigint as s, (extract(epoch from ends_at) * 1000)::bigint as e
       from ${table} where doctor_id = any(?::int[]) ${active} and starts_at < ? and ends_at > ? order by doctor_id, starts_at`,
    [intArray(doctorIds), new Date(to), new Date(from)],
  );
  const map = new Map<number, Intervals>();
  for (const r of rows) {
    let list = map.get(r.doctor_id);
    if (!list) {
      list = new Intervals();
      map.set(r.doctor_id, list);
    }
    list.add(Number(r.s), Number(r.e), r.id);
  }
  return map;
}

export type SkipReason = 'exists' | 'overlap' | 'leave' | 'past' | 'dst-gap';

interface Classified {
  accepted: Candidate[];
  skippedBy: Record<string, number>;
  /** For explicit slots (create, import): why each refused one was refused. */
  clashes: { candidate: Candidate; reason: 'overlap' | 'leave' | 'past'; with?: number }[];
}

/** Sorts candidates into those to write and those to skip, against the database and against each other. */
async function classify(em: EntityManager, candidates: Candidate[], now = Date.now()): Promise<Classified> {
  const result: Classified = { accepted: [], skippedBy: {}, clashes: [] };
  if (!candidates.length) return result;
  const doctorIds = [...new Set(candidates.map((c) => c.doctorId))];
  let from = Infinity;
  let to = -Infinity;
  for (const c of candidates) {
    if (c.startsAt < from) from = c.startsAt;
    if (c.endsAt > to) to = c.endsAt;
  }
  const [existing, leave] = await Promise.all([intervalsOf(em, 'slot', doctorIds, from, to), intervalsOf(em, 'doctor_leave', doctorIds, from, to)]);
  const skip = (reason: SkipReason) => (result.skippedBy[reason] = (result.skippedBy[reason] ?? 0) + 1);
  const taken = new Map<number, { start: number; end: number }[]>();
  const sorted = [...candidates].sort((a, b) => a.doctorId - b.doctorId || a.startsAt - b.startsAt);
  for (const c of sorted) {
    if (c.startsAt <= now) {
      skip('past');
      result.clashes.push({ candidate: c, reason: 'past' });
      continue;
    }
    const onLeave = leave.get(c.doctorId)?.find(c.startsAt, c.endsAt) ?? -1;
    if (onLeave >= 0) {
      skip('leave');
      result.clashes.push({ candidate: c, reason: 'leave', with: leave.get(c.doctorId)!.ids[onLeave] });
      continue;
    }
    const slots = existing.get(c.doctorId);
    const hit = slots?.find(c.startsAt, c.endsAt) ?? -1;
    if (hit >= 0) {
      if (slots!.startOf(hit) === c.startsAt && slots!.endOf(hit) === c.endsAt) skip('exists');
      else {
        skip('overlap');
        result.clashes.push({ candidate: c, reason: 'overlap', with: slots!.ids[hit] });
      }
      continue;
    }
    const mine = taken.get(c.doctorId) ?? [];
    const last = mine.at(-1);
    if (last && c.startsAt < last.end) {
      if (last.start === c.startsAt && last.end === c.endsAt) skip('exists');
      else {
        skip('overlap');
        result.clashes.push({ candidate: c, reason: 'overlap' });
      }
      continue;
    }
    mine.push({ start: c.startsAt, end: c.endsAt });
    taken.set(c.doctorId, mine);
    result.accepted.push(c);
  }
  return result;
}

const BATCH = 10_000;

/**
 * Inserts the accepted candidates in batches. Rows the exclusion constraint refuses (another run wrote them
 * meanwhile) are skipped and counted as existing. Returns how many were written.
 */
async function writeSlots(
  em: EntityManager,
  accepted: Candidate[],
  onProgress?: (done: number, total: number) => void,
): Promise<{ written: number; raced: number }> {
  let written = 0;
  for (let i = 0; i < accepted.length; i += BATCH) {
    const batch = accepted.slice(i, i + BATCH);
    const [row] = await query<{ n: string }>(
      em,
      `with ins as (
         insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity)
         select * from unnest(?::int[], ?::int[], ?::timestamptz[], ?::timestamptz[], ?::int[])
         on conflict do nothing returning 1)
       select count(*) as n from ins`,
      [
        intArray(batch.map((c) => c.doctorId)),
        intArray(batch.map((c) => c.clinicId)),
        `{${batch.map((c) => new Date(c.startsAt).toISOString()).join(',')}}`,
        `{${batch.map((c) => new Date(c.endsAt).toISOString()).join(',')}}`,
        intArray(batch.map((c) => c.capacity)),
      ],
    );
    written += Number(row!.n);
    onProgress?.(Math.min(i + BATCH, accepted.length), accepted.length);
  }
  return { written, raced: accepted.length - written };
}

function bulkResult(classified: Classified, written: number, raced: number, dryRun: boolean): BulkResult {
  const skippedBy = { ...classified.skippedBy };
  if (raced) skippedBy.exists = (skippedBy.exists ?? 0) + raced;
  const skipped = Object.values(skippedBy).reduce((a, b) => a + b, 0);
  return { created: written, skipped, skippedBy, ...(dryRun ? { dryRun: true } : {}) };
}

// ---------------------------------------------------------------------------------------------------------
// One slot

function slotSpan(input: { start: string; length?: string; end?: string }, tz: string, fields: { start: string; length: string; end: string }) {
  const startsAt = parseDateInput(input.start, tz, fields.start).instant;
  if (input.length && input.end) throw new ValidationError('give --length or --end, not both', fields.end);
  let endsAt: Date;
  if (input.end) {
    endsAt = parseDateInput(input.end, tz, fields.end).instant;
    const minutes = (endsAt.getTime() - startsAt.getTime()) / 60_000;
    if (minutes < 5 || minutes > 480 || !Number.isInteger(minutes))
      throw new ValidationError('must make a slot of 5 minutes to 8 hours, in whole minutes', fields.end);
  } else {
    endsAt = new Date(startsAt.getTime() + slotMinutes(input.length ?? '20m', fields.length) * 60_000);
  }
  return { startsAt, endsAt };
}

function describeClash(c: Classified['clashes'][number], tz: string): string {
  const when = formatLocal(new Date(c.candidate.startsAt), tz);
  if (c.reason === 'past') return `${when} is in the past`;
  if (c.reason === 'leave') return `${when} is inside leave ${c.with} of doctor ${c.candidate.doctorId}`;
  return c.with ? `${when} overlaps slot ${c.with}` : `${when} overlaps another slot in the same input`;
}

/** Creates one slot. Admins for any doctor; a doctor for themself. */
export async function createSlot(em: EntityManager, actor: Actor, raw: CreateSlotInput): Promise<SlotView> {
  const input = parseInput(createSlotInput, raw);
  const doctor = (await doctorsById(em, [input.doctorId])).get(input.doctorId);
  if (!doctor) throw new NotFoundError('doctor', input.doctorId, 'doctorId');
  await assertMayManageDoctor(em, actor, doctor.id, 'creating slots');
  if (!doctor.is_active) throw new ConflictError(`doctor ${doctor.id} (or their clinic) is deactivated`, 'doctorId');
  const { startsAt, endsAt } = slotSpan(input, doctor.timezone, { start: 'start', length: 'length', end: 'end' });
  return transaction(em, async (tx) => {
    await holdDoctorsAsRead(tx, [doctor], 'doctorId');
    const candidate: Candidate = {
      doctorId: doctor.id,
      clinicId: doctor.clinic_id,
      startsAt: startsAt.getTime(),
      endsAt: endsAt.getTime(),
      capacity: input.capacity,
    };
    const classified = await classify(tx, [candidate]);
    if (classified.skippedBy.exists) throw new ConflictError(`this slot already exists (${formatLocal(startsAt, doctor.timezone)})`, 'start');
    const clash = classified.clashes[0];
    if (clash) {
      const message = describeClash(clash, doctor.timezone);
      throw clash.reason === 'past' ? new ValidationError(message, 'start') : new ConflictError(message, 'start');
    }
    const [row] = await query<{ id: number }>(
      tx,
      'insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity) values (?, ?, ?, ?, ?) on conflict do nothing returning id',
      [doctor.id, doctor.clinic_id, startsAt, endsAt, input.capacity],
    );
    if (!row) throw new ConflictError('another slot of this doctor was created at this time meanwhile', 'start');
    const view = await getSlot(tx, actor, row.id);
    audit(tx, actor, { action: 'slot.create', entity: 'slot', entityId: row.id, after: view });
    return view;
  });
}

// ---------------------------------------------------------------------------------------------------------
// Schedules

interface Schedule {
  /** By ISO weekday; an explicit schedule gives every chosen day the same windows. */
  windowsFor(doctorId: number, weekday: number): Window[];
}

function explicitSchedule(input: ReturnType<typeof generateSlotsInput.parse>): Schedule {
  const days = new Set(parseWeekdays(input.days!, 'days'));
  const start = parseClock(input.start!, 'start');
  const end = parseClock(input.end!, 'end');
  if (end <= start) throw new ValidationError(`must be after --start (${clockText(start)})`, 'end');
  const minutes = slotMinutes(input.length!, 'length');
  const capacity = parseInput(capacitySchema, input.capacity ?? 1);
  // Cut the breaks out of [start, end).
  let pieces = [{ start, end }];
  input.breaks.forEach((text, i) => {
    const m = /^(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$/.exec(text);
    if (!m) throw new ValidationError(`must be HH:MM-HH:MM (got "${text}")`, `breaks[${i}]`);
    const b = { start: parseClock(m[1]!, `breaks[${i}]`), end: parseClock(m[2]!, `breaks[${i}]`) };
    if (b.end <= b.start) throw new ValidationError(`ends before it starts (${text})`, `breaks[${i}]`);
    pieces = pieces
      .flatMap((p) => [
        ...(b.start > p.start ? [{ start: p.start, end: Math.min(p.end, b.start) }] : []),
        ...(b.end < p.end ? [{ start: Math.max(p.start, b.end), end: p.end }] : []),
      ])
      .filter((p) => p.end > p.start);
  });
  const windows = pieces.map((p) => ({ ...p, slotMinutes: minutes, capacity }));
  return { windowsFor: (_doctor, weekday) => (days.has(weekday) ? windows : []) };
}

/**
 * The instant of a wall-clock minute of a local day, or null when that time does not exist (clocks went
 * forward). Memoised per zone and day: a clinic's doctors share them, and Intl is slow enough to matter at
 * 100,000 slots.
 */
function wallClock(cache: Map<string, number | null>, tz: string, day: { year: number; month: number; day: number }, minute: number): number | null {
  const key = `${tz}|${day.year}-${day.month}-${day.day}|${minute}`;
  let hit = cache.get(key);
  if (hit === undefined) {
    const instant = zonedTime(day.year, day.month, day.day + Math.floor(minute / 1440), Math.floor((minute % 1440) / 60), minute % 60, tz);
    const shown = localParts(instant, tz);
    hit = minute < 1440 && shown.hour * 60 + shown.minute !== minute ? null : instant.getTime();
    cache.set(key, hit);
  }
  return hit;
}

function* slotsOfDay(
  doctor: DoctorRow,
  day: { year: number; month: number; day: number },
  windows: Window[],
  cache: Map<string, number | null>,
): Generator<Candidate | 'dst-gap'> {
  for (const w of windows) {
    for (let t = w.start; t + w.slotMinutes <= w.end; t += w.slotMinutes) {
      const startsAt = wallClock(cache, doctor.timezone, day, t);
      const endsAt = wallClock(cache, doctor.timezone, day, t + w.slotMinutes);
      // A wall-clock time that does not exist that day (clocks went forward) has no slot.
      if (startsAt === null || endsAt === null) {
        yield 'dst-gap';
        continue;
      }
      yield { doctorId: doctor.id, clinicId: doctor.clinic_id, startsAt, endsAt, capacity: w.capacity };
    }
  }
}

export interface GenerateOptions {
  onProgress?: (done: number, total: number) => void;
}

/**
 * Generates slots for doctors over a range of dates (each doctor's clinic-local days), from an explicit
 * schedule or each doctor's stored hours. Idempotent: existing identical slots are skipped and counted.
 * Everything is validated before anything is written, and the run commits as one transaction.
 */
export async function generateSlots(em: EntityManager, actor: Actor, raw: GenerateSlotsInput, options: GenerateOptions = {}): Promise<BulkResult> {
  const input = parseInput(generateSlotsInput, raw);
  if (!input.doctorIds?.length && !input.clinicId) throw new ValidationError('give doctors or a clinic', 'doctorIds');
  if (input.doctorIds?.length && input.clinicId) throw new ValidationError('give doctors or a clinic, not both', 'clinicId');
  const from = parseCalendarDate(input.from, 'from');
  const to = parseCalendarDate(input.to, 'to');
  if (to < from) throw new ValidationError(`must not be before --from (${from})`, 'to');
  if (Date.parse(to) - Date.parse(from) > 366 * 86_400_000) throw new ValidationError('a run covers at most one year', 'to');
  const explicit = [input.days, input.start, input.end, input.length].filter((v) => v !== undefined).length;
  if (explicit && explicit < 4) {
    const missing = (['days', 'start', 'end', 'length'] as const).find((k) => input[k] === undefined)!;
    throw new ValidationError('is required with an explicit schedule (--days, --start, --end, --length); leave all four out to use stored hours', missing);
  }

  let doctorIds = input.doctorIds ?? [];
  if (input.clinicId) {
    requireRole(actor, ['admin'], 'generating slots for a whole clinic');
    const rows = await query<{ id: number }>(em, 'select id from doctor where clinic_id = ? and is_active order by id', [input.clinicId]);
    if (!rows.length) {
      const [clinic] = await query(em, 'select 1 from clinic where id = ?', [input.clinicId]);
      if (!clinic) throw new NotFoundError('clinic', input.clinicId, 'clinicId');
    }
    doctorIds = rows.map((r) => r.id);
  }
  const doctors = await doctorsById(em, doctorIds);
  const issues: FieldIssue[] = [];
  for (const id of doctorIds) {
    const d = doctors.get(id);
    if (!d) issues.push({ field: 'doctorIds', message: `doctor ${id} not found` });
    else if (!d.is_active) issues.push({ field: 'doctorIds', message: `doctor ${id} (or their clinic) is deactivated` });
  }
  if (issues.length) throw new ValidationError(issues);
  if (!isAdmin(actor)) for (const id of doctorIds) await assertMayManageDoctor(em, actor, id, 'generating slots');

  let schedule: Schedule;
  if (explicit) schedule = explicitSchedule(input);
  else {
    const stored = await windowsOf(em, doctorIds);
    const without = doctorIds.filter((id) => !stored.has(id));
    if (without.length)
      throw new ValidationError(
        `doctor(s) ${without.join(', ')} have no working hours: set them (doctors hours set) or give --days, --start, --end and --length`,
        'days',
      );
    schedule = { windowsFor: (doctorId, weekday) => stored.get(doctorId)?.get(weekday) ?? [] };
  }

  const candidates: Candidate[] = [];
  const clock = new Map<string, number | null>();
  let dstGaps = 0;
  for (const id of doctorIds) {
    const doctor = doctors.get(id)!;
    for (const day of calendarDays(from, to)) {
      for (const c of slotsOfDay(doctor, day, schedule.windowsFor(id, day.weekday), clock)) {
        if (c === 'dst-gap') dstGaps++;
        else candidates.push(c);
      }
    }
  }

  return transaction(em, async (tx) => {
    await holdDoctorsAsRead(
      tx,
      doctorIds.map((id) => doctors.get(id)!),
      'doctorIds',
    );
    const classified = await classify(tx, candidates);
    if (dstGaps) classified.skippedBy['dst-gap'] = dstGaps;
    if (input.dryRun) return bulkResult(classified, classified.accepted.length, 0, true);
    const { written, raced } = await writeSlots(tx, classified.accepted, options.onProgress);
    const result = bulkResult(classified, written, raced, false);
    audit(tx, actor, { action: 'slot.generate', entity: 'slot', entityId: null, after: { ...result, doctorIds, from, to, explicit: Boolean(explicit) } });
    return result;
  });
}

// ---------------------------------------------------------------------------------------------------------
// Import

/**
 * Imports slots from rows of a file (CSV or JSON, already split into rows with their line numbers).
 * Every row is checked first; any bad row fails the whole import, and every bad row is reported with its
 * line. Identical existing slots and slots inside leave are skipped and counted.
 */
export async function importSlots(
  em: EntityManager,
  actor: Actor,
  rows: ImportRow[],
  options: GenerateOptions & { dryRun?: boolean /** How rows are counted in messages: CSV lines, or JSON array items. */; unit?: 'line' | 'item' } = {},
): Promise<BulkResult> {
  if (!rows.length) throw new ValidationError('the file holds no rows', 'file');
  const unit0 = options.unit ?? 'line';
  // Rows come from files and JSON bodies: check their shape (text where text belongs) before anything else.
  const shapeIssues = rows.flatMap((r, i) => {
    const parsed = importRow.safeParse(r, { reportInput: true });
    const issues = parsed.success ? [] : fieldIssues(parsed.error);
    return [...issues, ...unstorableText(r)].map((issue) => ({ field: `${unit0} ${r.line ?? i + 1}: ${issue.field}`, message: issue.message }));
  });
  if (shapeIssues.length) throw new ValidationError(shapeIssues);
  const isId = (text: string) => /^\d{1,10}$/.test(text) && Number(text) >= 1 && Number(text) <= 2_147_483_647;
  const ids = new Set<number>();
  for (const r of rows) if (isId(String(r.doctor ?? '').trim())) ids.add(Number(String(r.doctor).trim()));
  const doctors = await doctorsById(em, [...ids]);
  const issues: FieldIssue[] = [];
  const unit = options.unit ?? 'line';
  const bad = (line: number, column: string, message: string) => issues.push({ field: `${unit} ${line}: ${column}`, message });
  const candidates: Candidate[] = [];
  for (const r of rows) {
    const doctorText = String(r.doctor ?? '').trim();
    const doctor = isId(doctorText) ? doctors.get(Number(doctorText)) : undefined;
    if (!doctorText) bad(r.line, 'doctor', 'is required');
    else if (!isId(doctorText)) bad(r.line, 'doctor', `must be a doctor id (got "${doctorText}")`);
    else if (!doctor) bad(r.line, 'doctor', `doctor ${doctorText} not found`);
    else if (!doctor.is_active) bad(r.line, 'doctor', `doctor ${doctorText} (or their clinic) is deactivated`);
    const capText = String(r.capacity ?? '').trim();
    const capacity = capText === '' ? 1 : /^\d{1,3}$/.test(capText) ? Number(capText) : NaN;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 100) bad(r.line, 'capacity', `must be a whole number from 1 to 100 (got "${capText}")`);
    if (!r.start?.trim()) {
      bad(r.line, 'start', 'is required');
      continue;
    }
    if (!doctor?.is_active) continue;
    try {
      const { startsAt, endsAt } = slotSpan({ start: r.start, length: r.length?.trim() || undefined, end: r.end?.trim() || undefined }, doctor.timezone, {
        start: 'start',
        length: 'length',
        end: 'end',
      });
      candidates.push({ doctorId: doctor.id, clinicId: doctor.clinic_id, startsAt: startsAt.getTime(), endsAt: endsAt.getTime(), capacity, line: r.line });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      for (const i of err.issues) bad(r.line, i.field, i.message);
    }
  }
  if (!isAdmin(actor)) {
    const own = await doctorIdOf(em, actor);
    for (const id of ids) if (id !== own) await assertMayManageDoctor(em, actor, id, 'importing slots');
  }
  return transaction(em, async (tx) => {
    await holdDoctorsAsRead(
      tx,
      [...new Set(candidates.map((c) => c.doctorId))].map((id) => doctors.get(id)!),
      'file',
    );
    const classified = await classify(tx, candidates);
    for (const clash of classified.clashes) {
      if (clash.reason === 'leave') continue; // skipped and counted, like generate
      const doctor = doctors.get(clash.candidate.doctorId)!;
      bad(clash.candidate.line!, 'start', describeClash(clash, doctor.timezone));
    }
    if (issues.length) {
      issues.sort((a, b) => Number(/\d+/.exec(a.field)![0]) - Number(/\d+/.exec(b.field)![0]));
      throw new ValidationError(issues);
    }
    if (options.dryRun) return bulkResult(classified, classified.accepted.length, 0, true);
    const { written, raced } = await writeSlots(tx, classified.accepted, options.onProgress);
    const result = bulkResult(classified, written, raced, false);
    audit(tx, actor, { action: 'slot.import', entity: 'slot', entityId: null, after: { ...result, rows: rows.length, doctorIds: [...ids] } });
    return result;
  });
}

// ---------------------------------------------------------------------------------------------------------
// Deletion

/**
 * Deactivates a slot (nothing a booking refers to is ever deleted). Refused while it has booked appointments,
 * unless `cancelBookings`, which cancels them in the same transaction.
 */
export async function deleteSlot(
  em: EntityManager,
  actor: Actor,
  id: number,
  raw: DeleteSlotInput = {},
): Promise<SlotView & { cancelledAppointmentIds: number[] }> {
  const input = parseInput(deleteSlotInput, raw);
  const slotId = parseInput(idSchema, id);
  return transaction(em, async (tx) => {
    // One slot, then its appointments (./locks.ts).
    const [slot] = await query<{ id: number; doctor_id: number; is_active: boolean }>(tx, 'select id, doctor_id, is_active from slot where id = ? for update', [
      slotId,
    ]);
    if (!slot) throw new NotFoundError('slot', slotId);
    await assertMayManageDoctor(tx, actor, slot.doctor_id, 'deleting slots');
    if (!slot.is_active) throw new ConflictError(`slot ${slotId} is already deleted`);
    const booked = await query<{ id: number }>(tx, `select id from appointment where slot_id = ? and status = 'booked' order by id`, [slotId]);
    let cancelled: number[] = [];
    if (booked.length) {
      if (!input.cancelBookings) {
        throw new ConflictError(
          `slot ${slotId} has ${booked.length} booked appointment(s) (${booked.map((b) => b.id).join(', ')}); cancel them with this option`,
          'cancelBookings',
        );
      }
      cancelled = (await releasePlaces(tx, actor, { cause: 'slot-deleted', appointmentIds: booked.map((b) => b.id), at: new Date() })).map(
        (f) => f.appointmentId,
      );
    }
    const before = await getSlot(tx, actor, slotId);
    await query(tx, 'update slot set is_active = false, updated_at = now() where id = ?', [slotId]);
    const after = await getSlot(tx, actor, slotId);
    audit(tx, actor, { action: 'slot.delete', entity: 'slot', entityId: slotId, before, after: { ...after, cancelledAppointmentIds: cancelled } });
    return { ...after, cancelledAppointmentIds: cancelled };
  });
}
