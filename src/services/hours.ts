// A doctor's weekly working hours: windows per weekday (split shifts allowed), each with a slot length and
// capacity. `slots generate` without an explicit schedule uses them.
import type { EntityManager } from '@mikro-orm/postgresql';
import { ConflictError, ValidationError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import { setHoursInput, type SetHoursInput } from '../domain/schemas/slots.js';
import { clockText, parseClock, parseWeekdays } from '../domain/time.js';
import { parseInput } from '../domain/validation.js';
import { hoursView, type DoctorHoursView, type HoursRow } from '../domain/views.js';
import { audit } from './audit.js';
import { assertMayManageDoctor, findDoctor } from './doctors.js';
import { slotMinutes } from '../domain/durations.js';
import { intArray, query, refusedBy } from './support.js';
import { transaction } from './locks.js';

const toMinutes = (time: string) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));

export interface Window {
  start: number;
  end: number;
  slotMinutes: number;
  capacity: number;
}

/** The stored windows of several doctors, by doctor and ISO weekday. */
export async function windowsOf(em: EntityManager, doctorIds: number[]): Promise<Map<number, Map<number, Window[]>>> {
  const rows = await query<HoursRow & { doctor_id: number }>(
    em,
    'select doctor_id, weekday, starts_at_local::text, ends_at_local::text, slot_minutes, capacity from doctor_hours where doctor_id = any(?::int[]) order by doctor_id, weekday, starts_at_local',
    [intArray(doctorIds)],
  );
  const byDoctor = new Map<number, Map<number, Window[]>>();
  for (const r of rows) {
    const days = byDoctor.get(r.doctor_id) ?? new Map<number, Window[]>();
    byDoctor.set(r.doctor_id, days);
    const list = days.get(r.weekday) ?? [];
    list.push({ start: toMinutes(r.starts_at_local), end: toMinutes(r.ends_at_local), slotMinutes: r.slot_minutes, capacity: r.capacity });
    days.set(r.weekday, list);
  }
  return byDoctor;
}

export async function getHours(em: EntityManager, _actor: Actor, doctorId: number): Promise<DoctorHoursView> {
  const doctor = await findDoctor(em, doctorId);
  const rows = await query<HoursRow>(
    em,
    'select weekday, starts_at_local::text, ends_at_local::text, slot_minutes, capacity from doctor_hours where doctor_id = ? order by weekday, starts_at_local',
    [doctor.id],
  );
  return hoursView(doctor.id, doctor.clinic.timezone, rows);
}

/**
 * Sets the windows of the given weekdays, replacing what those days had (other days stay). Admins, or the
 * doctor themself.
 */
export async function setHours(em: EntityManager, actor: Actor, doctorId: number, raw: SetHoursInput): Promise<DoctorHoursView> {
  const input = parseInput(setHoursInput, raw);
  const days = parseWeekdays(input.days, 'days');
  const minutes = slotMinutes(input.length, 'length');
  const windows = input.windows.map((w) => ({ start: parseClock(w.start, 'start'), end: parseClock(w.end, 'end') })).sort((a, b) => a.start - b.start);
  for (const [k, w] of windows.entries()) {
    if (w.end <= w.start) throw new ValidationError(`${clockText(w.end)} must be after ${clockText(w.start)}`, 'end');
    if (w.end - w.start < minutes) throw new ValidationError(`the window ${clockText(w.start)}–${clockText(w.end)} is shorter than one slot`, 'end');
    const prev = windows[k - 1];
    if (prev && w.start < prev.end)
      throw new ValidationError(`${clockText(w.start)}–${clockText(w.end)} overlaps ${clockText(prev.start)}–${clockText(prev.end)}`, 'start');
  }
  return refusedBy(
    () =>
      transaction(em, async (tx) => {
        const doctor = await findDoctor(tx, doctorId);
        await assertMayManageDoctor(tx, actor, doctor.id, 'setting working hours');
        const before = await getHours(tx, actor, doctor.id);
        await query(tx, 'delete from doctor_hours where doctor_id = ? and weekday = any(?::int[])', [doctor.id, intArray(days)]);
        for (const day of days) {
          for (const w of windows) {
            await query(
              tx,
              'insert into doctor_hours (doctor_id, weekday, starts_at_local, ends_at_local, slot_minutes, capacity) values (?, ?, ?::time, ?::time, ?, ?)',
              [doctor.id, day, clockText(w.start), clockText(w.end), minutes, input.capacity],
            );
          }
        }
        const after = await getHours(tx, actor, doctor.id);
        audit(tx, actor, { action: 'hours.set', entity: 'doctor', entityId: doctor.id, before, after });
        return after;
      }),
    { doctor_hours_no_overlap: () => new ConflictError('working-hour windows of one day overlap', 'windows') },
  );
}
