// Schedules: slots over a range of days, from an explicit schedule or each doctor's stored hours.
import { slotMinutes } from '../../domain/durations.js';
import { NotFoundError, ValidationError, type FieldIssue } from '../../domain/errors.js';
import { isAdmin, requireRole } from '../../domain/roles.js';
import { capacity as capacitySchema, generateSlotsInput, type GenerateSlotsInput } from '../../domain/schemas/slots.js';
import { calendarDays, clockText, isRelativeDate, localParts, parseCalendarDate, parseClock, parseWeekdays, zonedTime } from '../../domain/time.js';
import { parseInput, type Untrusted } from '../../domain/validation.js';
import type { BulkResult } from '../../domain/views.js';
import { audit } from '../audit.js';
import type { ServiceContext } from '../context.js';
import { assertMayManageDoctor } from '../doctors.js';
import { windowsOf, type Window } from '../hours.js';
import { transaction } from '../locks.js';
import { query } from '../support.js';
import { classify, doctorsById, holdDoctorsAsRead, type Candidate, type DoctorRow } from './plan.js';
import { bulkResult, writeSlots, type GenerateOptions } from './write.js';

interface Schedule {
  /** By ISO weekday; an explicit schedule gives every chosen day the same windows. */
  windowsFor(doctorId: number, weekday: number): Window[];
}

interface ExplicitSchedule {
  days: string;
  start: string;
  end: string;
  length: string;
  breaks: string[];
  capacity?: number;
}

function explicitSchedule(input: ExplicitSchedule): Schedule {
  const days = new Set(parseWeekdays(input.days, 'days'));
  const start = parseClock(input.start, 'start');
  const end = parseClock(input.end, 'end');
  if (end <= start) throw new ValidationError(`must be after --start (${clockText(start)})`, 'end');
  const minutes = slotMinutes(input.length, 'length');
  const capacity = parseInput(capacitySchema, input.capacity ?? 1);
  // Cut the breaks out of [start, end).
  let pieces = [{ start, end }];
  input.breaks.forEach((text, i) => {
    const [, from, to] = /^(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$/.exec(text) ?? [];
    if (!from || !to) throw new ValidationError(`must be HH:MM-HH:MM (got "${text}")`, `breaks[${i}]`);
    const b = { start: parseClock(from, `breaks[${i}]`), end: parseClock(to, `breaks[${i}]`) };
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

/**
 * The days a range counting from today names in the zones of the doctors' clinics. Zones whose today is
 * another day (Asia/Kolkata and America/New_York, most of the day) give no one answer: refused.
 */
function todayOfDoctors(doctors: DoctorRow[], range: (timeZone: string) => { from: string; to: string }, field: string): { from: string; to: string } {
  const zones = [...new Set(doctors.map((d) => d.timezone))];
  const ranges = new Map(zones.map((zone) => [zone, range(zone)]));
  const [first, ...others] = [...ranges.values()];
  if (!first) return range('UTC');
  if (others.some((r) => r.from !== first.from || r.to !== first.to)) {
    throw new ValidationError(`counts from today, which is not the same day in the doctors' zones (${zones.join(', ')}): give the days as YYYY-MM-DD`, field);
  }
  return first;
}

/**
 * Generates slots for doctors over a range of dates (each doctor's clinic-local days), from an explicit
 * schedule or each doctor's stored hours. Idempotent: existing identical slots are skipped and counted.
 * Everything is validated before anything is written, and the run commits as one transaction.
 */
export async function generateSlots(ctx: ServiceContext, raw: GenerateSlotsInput | Untrusted, options: GenerateOptions = {}): Promise<BulkResult> {
  const input = parseInput(generateSlotsInput, raw);
  const { em, actor } = ctx;
  if (!input.doctorIds?.length && !input.clinicId) throw new ValidationError('give doctors or a clinic', 'doctorIds');
  if (input.doctorIds?.length && input.clinicId) throw new ValidationError('give doctors or a clinic, not both', 'clinicId');
  const range = (timeZone: string) => {
    const at = { timeZone, now: ctx.clock.now() };
    const from = parseCalendarDate(input.from, 'from', at);
    const to = parseCalendarDate(input.to, 'to', at);
    if (to < from) throw new ValidationError(`must not be before --from (${from})`, 'to');
    if (Date.parse(to) - Date.parse(from) > 366 * 86_400_000) throw new ValidationError('a run covers at most one year', 'to');
    return { from, to };
  };
  // Checked before anything is read; a day counted from today (`tomorrow`, `mon`) is read again below, in the
  // zone of the doctors' clinics.
  let { from, to } = range('UTC');
  const { days, start, end, length } = input;
  // All four make an explicit schedule; none, each doctor's stored hours; some is a mistake.
  const missing = (['days', 'start', 'end', 'length'] as const).filter((k) => input[k] === undefined);
  if (missing[0] && missing.length < 4) {
    throw new ValidationError('is required with an explicit schedule (--days, --start, --end, --length); leave all four out to use stored hours', missing[0]);
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
  const found = await doctorsById(em, doctorIds);
  const doctors: DoctorRow[] = [];
  const issues: FieldIssue[] = [];
  for (const id of doctorIds) {
    const d = found.get(id);
    if (!d) issues.push({ field: 'doctorIds', message: `doctor ${id} not found` });
    else if (!d.is_active) issues.push({ field: 'doctorIds', message: `doctor ${id} (or their clinic) is deactivated` });
    else doctors.push(d);
  }
  if (issues.length) throw new ValidationError(issues);
  if (!isAdmin(actor)) for (const id of doctorIds) await assertMayManageDoctor(ctx, id, 'generating slots');
  if (isRelativeDate(input.from) || isRelativeDate(input.to)) ({ from, to } = todayOfDoctors(doctors, range, isRelativeDate(input.from) ? 'from' : 'to'));

  let schedule: Schedule;
  const explicit = days !== undefined && start !== undefined && end !== undefined && length !== undefined;
  if (explicit) schedule = explicitSchedule({ days, start, end, length, breaks: input.breaks, capacity: input.capacity });
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
  for (const doctor of doctors) {
    for (const day of calendarDays(from, to)) {
      for (const c of slotsOfDay(doctor, day, schedule.windowsFor(doctor.id, day.weekday), clock)) {
        if (c === 'dst-gap') dstGaps++;
        else candidates.push(c);
      }
    }
  }

  return transaction(ctx, async (tx) => {
    await holdDoctorsAsRead(tx.em, doctors, 'doctorIds');
    const classified = await classify(tx, candidates);
    if (dstGaps) classified.skippedBy['dst-gap'] = dstGaps;
    if (input.dryRun) return bulkResult(classified, classified.accepted.length, 0, true);
    const { written, raced } = await writeSlots(tx, classified.accepted, options.onProgress);
    const result = bulkResult(classified, written, raced, false);
    audit(tx, { action: 'slot.generate', entity: 'slot', entityId: null, after: { ...result, doctorIds, from, to, explicit } });
    return result;
  });
}
