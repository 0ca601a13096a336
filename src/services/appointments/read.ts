import { readContext } from '../../db/replica.js';
import type { EntityManager } from '@mikro-orm/postgresql';
import { NotFoundError } from '../../domain/errors.js';
import { isAdmin } from '../../domain/roles.js';
import type { Page } from '../../domain/schemas/common.js';
import { id as idSchema } from '../../domain/schemas/common.js';
import { listAppointmentsInput, type ListAppointmentsInput } from '../../domain/schemas/appointments.js';
import { parseDateInput, startOfToday, type ZonedNow } from '../../domain/time.js';
import { parseInput, type Untrusted } from '../../domain/validation.js';
import { appointmentView, type AppointmentRow, type AppointmentView } from '../../domain/views.js';
import type { ServiceContext } from '../context.js';
import { doctorIdOf, likeLiteral, pageOfRows, patientIdOf, query } from '../support.js';

/**
 * Appointments matching a SQL condition on `a` (appointment), with the names people need, in one query.
 * `where` is trusted code, never user text: user values go in `params`.
 */
export async function findAppointments(
  em: EntityManager,
  where: string,
  params: unknown[],
  page: { limit: number; offset: number; order?: 'asc' | 'desc' },
): Promise<{ items: AppointmentView[]; total: number }> {
  const { rows, total } = await pageOfRows<AppointmentRow>(
    em,
    `select a.id, a.slot_id, a.patient_id, p.user_id as patient_user_id, pu.name as patient_name, a.doctor_id, du.name as doctor_name,
            a.clinic_id, c.name as clinic_name, c.timezone, a.starts_at, a.ends_at, a.status, a.reason, a.notes,
            a.cancelled_at, a.cancel_reason, a.created_at, a.updated_at, a.series_id,
            array(select x.slot_id from appointment_slot x where x.appointment_id = a.id order by x.position) as further_slot_ids,
            count(*) over () as total
       from appointment a
       join patient p on p.id = a.patient_id join "user" pu on pu.id = p.user_id
       join doctor d on d.id = a.doctor_id join "user" du on du.id = d.user_id
       join clinic c on c.id = a.clinic_id
      where ${where}
      order by a.starts_at ${page.order === 'asc' ? 'asc' : 'desc'}, a.id`,
    params,
    page.limit,
    page.offset,
  );
  return { items: rows.map(appointmentView), total };
}

// ---------------------------------------------------------------------------------------------------------
// Who may see what

/** A SQL condition on `a` (appointment) for what the actor may see: admins all, doctors theirs, patients theirs. */
async function visibleAppointments(ctx: ServiceContext): Promise<{ sql: string; params: unknown[] }> {
  if (isAdmin(ctx.actor)) return { sql: 'true', params: [] };
  const patientId = await patientIdOf(ctx);
  if (patientId) return { sql: 'a.patient_id = ?', params: [patientId] };
  const doctorId = await doctorIdOf(ctx);
  if (doctorId) return { sql: 'a.doctor_id = ?', params: [doctorId] };
  return { sql: 'false', params: [] };
}

/** One appointment the actor may see; anything else is "not found", so ids cannot be probed. */
export async function getAppointment(ctx: ServiceContext, id: number): Promise<AppointmentView> {
  const appointmentId = parseInput(idSchema, id);
  const visible = await visibleAppointments(ctx);
  const { items } = await findAppointments(ctx.em, `a.id = ? and ${visible.sql}`, [appointmentId, ...visible.params], { limit: 1, offset: 0 });
  if (!items[0]) throw new NotFoundError('appointment', id);
  return items[0];
}

/**
 * How the appointment list reads a date: in the zone of the doctor or clinic filtered on, else in each
 * appointment's own clinic's zone (`today` at a clinic in Asia/Kolkata is not today in America/New_York). The
 * bound it returns is SQL on `c` (the appointment's clinic) with its parameters: one instant per zone that
 * clinics have (a handful), and UTC's for a clinic made since.
 */
async function datesOfClinics(
  { em, clock }: ServiceContext,
  filter: { doctorId?: number; clinicId?: number },
): Promise<(read: (at: ZonedNow) => Date) => { sql: string; params: unknown[] }> {
  const now = clock.now();
  const [filtered] = filter.doctorId
    ? await query<{ timezone: string }>(em, 'select c.timezone from doctor d join clinic c on c.id = d.clinic_id where d.id = ?', [filter.doctorId])
    : filter.clinicId
      ? await query<{ timezone: string }>(em, 'select timezone from clinic where id = ?', [filter.clinicId])
      : [];
  const zones =
    filter.doctorId || filter.clinicId ? [] : (await query<{ timezone: string }>(em, 'select distinct timezone from clinic order by 1')).map((r) => r.timezone);
  return (read) => {
    // Read once in the fallback zone first: a bad date is refused whether or not any clinic exists.
    const fallback = read({ timeZone: filtered?.timezone ?? 'UTC', now });
    if (!zones.length) return { sql: '?', params: [fallback] };
    const cases = zones.map(() => 'when ? then ?::timestamptz').join(' ');
    return { sql: `case c.timezone ${cases} else ?::timestamptz end`, params: [...zones.flatMap((timeZone) => [timeZone, read({ timeZone, now })]), fallback] };
  };
}

/** Fields a search looks in: folded (ascend_fold: no case, no accents) as the references resolver matches names. */
const SEARCHED = ['ascend_fold(pu.name)', 'ascend_fold(du.name)', 'ascend_fold(a.reason)', 'ascend_fold(a.notes)'];

/** Every word of the text in one of the searched fields (a word's % and _ are literal). */
function searchCondition(text: string): { sql: string; params: unknown[] } {
  const words = text.split(/\s+/).filter(Boolean);
  const word = SEARCHED.map((field) => `${field} like '%' || ascend_fold(?) || '%'`).join(' or ');
  return {
    sql: words.map(() => `(${word})`).join(' and ') || 'true',
    params: words.flatMap((w) => SEARCHED.map(() => likeLiteral(w))),
  };
}

export async function listAppointments(ctx: ServiceContext, raw: ListAppointmentsInput | Untrusted): Promise<Page<AppointmentView>> {
  const input = parseInput(listAppointmentsInput, raw);
  ctx = await readContext(ctx);
  const { em } = ctx;
  const visible = await visibleAppointments(ctx);
  const where = [visible.sql];
  const params = [...visible.params];
  if (input.patientId) {
    where.push('a.patient_id = ?');
    params.push(input.patientId);
  }
  if (input.doctorId) {
    where.push('a.doctor_id = ?');
    params.push(input.doctorId);
  }
  if (input.clinicId) {
    where.push('a.clinic_id = ?');
    params.push(input.clinicId);
  }
  if (input.seriesId) {
    where.push('a.series_id = ?');
    params.push(input.seriesId);
  }
  if (input.status) {
    where.push('a.status = ?');
    params.push(input.status);
  }
  if (input.search) {
    const search = searchCondition(input.search);
    where.push(search.sql);
    params.push(...search.params);
  }
  // Without `from`, `includePast: false` lists what is coming: from the start of today.
  const upcoming = input.includePast === false && input.from === undefined;
  if (input.from !== undefined || input.to !== undefined || upcoming) {
    const bound = await datesOfClinics(ctx, input);
    if (input.from !== undefined || upcoming) {
      const { from } = input;
      const b = bound((at) => (from === undefined ? startOfToday(at) : parseDateInput(from, at, 'from').instant));
      where.push(`a.starts_at >= ${b.sql}`);
      params.push(...b.params);
    }
    if (input.to !== undefined) {
      const { to } = input;
      const b = bound((at) => parseDateInput(to, at, 'to', { endOfDay: true }).instant);
      where.push(`a.starts_at < ${b.sql}`);
      params.push(...b.params);
    }
  }
  const result = await findAppointments(em, where.join(' and '), params, { limit: input.limit, offset: input.offset, order: 'asc' });
  return { ...result, limit: input.limit, offset: input.offset };
}
