// A doctor's weekly working hours: windows per weekday (split shifts allowed), each with a slot length and
// capacity. `slots generate` without an explicit schedule uses them.
import type { EntityManager } from '@mikro-orm/postgresql';
import { DoctorHours } from '../domain/entities/index.js';
import { ConflictError, ValidationError } from '../domain/errors.js';
import { setHoursInput, type SetHoursInput } from '../domain/schemas/slots.js';
import { clockText, parseClock, parseWeekdays } from '../domain/time.js';
import { parseInput, type Untrusted } from '../domain/validation.js';
import { hoursView, type DoctorHoursView } from '../domain/views.js';
import { audit } from './audit.js';
import type { ServiceContext } from './context.js';
import { assertMayManageDoctor, findDoctor } from './doctors.js';
import { slotMinutes } from '../domain/durations.js';
import { refusedBy } from './support.js';
import { transaction } from './locks.js';

const toMinutes = (time: string) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));

export interface Window {
  start: number;
  end: number;
  slotMinutes: number;
  capacity: number;
}

/** The windows of some doctors, in order of doctor, weekday and start. */
function hoursOf(em: EntityManager, doctorIds: number[]): Promise<DoctorHours[]> {
  return em.find(DoctorHours, { doctor: { $in: doctorIds } }, { orderBy: { doctor: 'asc', weekday: 'asc', startsAtLocal: 'asc' } });
}

/** The stored windows of several doctors, by doctor and ISO weekday. */
export async function windowsOf(em: EntityManager, doctorIds: number[]): Promise<Map<number, Map<number, Window[]>>> {
  const byDoctor = new Map<number, Map<number, Window[]>>();
  for (const h of await hoursOf(em, doctorIds)) {
    const days = byDoctor.get(h.doctor.id) ?? new Map<number, Window[]>();
    byDoctor.set(h.doctor.id, days);
    const list = days.get(h.weekday) ?? [];
    list.push({ start: toMinutes(h.startsAtLocal), end: toMinutes(h.endsAtLocal), slotMinutes: h.slotMinutes, capacity: h.capacity });
    days.set(h.weekday, list);
  }
  return byDoctor;
}

export async function getHours({ em }: ServiceContext, doctorId: number): Promise<DoctorHoursView> {
  const doctor = await findDoctor(em, doctorId);
  return hoursView(doctor.id, doctor.clinic.timezone, await hoursOf(em, [doctor.id]));
}

/**
 * Sets the windows of the given weekdays, replacing what those days had (other days stay). Admins, or the
 * doctor themself.
 */
export async function setHours(ctx: ServiceContext, doctorId: number, raw: SetHoursInput | Untrusted): Promise<DoctorHoursView> {
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
      transaction(ctx, async (tx) => {
        const doctor = await findDoctor(tx.em, doctorId);
        await assertMayManageDoctor(tx, doctor.id, 'setting working hours');
        const stored = await hoursOf(tx.em, [doctor.id]);
        const before = hoursView(doctor.id, doctor.clinic.timezone, stored);
        // The old windows go first, in a flush of their own: the unit of work inserts before it deletes, and
        // doctor_hours_no_overlap is checked at once, so a new window over an old one would be refused.
        tx.em.remove(stored.filter((h) => days.includes(h.weekday)));
        await tx.em.flush();
        for (const day of days) {
          for (const w of windows) {
            tx.em.create(DoctorHours, {
              doctor: doctor.id,
              weekday: day,
              startsAtLocal: `${clockText(w.start)}:00`,
              endsAtLocal: `${clockText(w.end)}:00`,
              slotMinutes: minutes,
              capacity: input.capacity,
            });
          }
        }
        await tx.em.flush();
        const after = hoursView(doctor.id, doctor.clinic.timezone, await hoursOf(tx.em, [doctor.id]));
        audit(tx, { action: 'hours.set', entity: 'doctor', entityId: doctor.id, before, after });
        return after;
      }),
    { doctor_hours_no_overlap: () => new ConflictError('working-hour windows of one day overlap', 'windows') },
  );
}
