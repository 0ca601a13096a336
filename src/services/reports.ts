// Utilisation: how much of the offered capacity was booked, per doctor and clinic-local day, and how often
// booked patients did not come.
import type { EntityManager } from '@mikro-orm/postgresql';
import { ForbiddenError } from '../domain/errors.js';
import { isAdmin, type Actor } from '../domain/roles.js';
import type { Page } from '../domain/schemas/common.js';
import { utilisationInput, type UtilisationInput } from '../domain/schemas/appointments.js';
import { localDateString, parseCalendarDate } from '../domain/time.js';
import { parseInput } from '../domain/validation.js';
import { utilisationView, type UtilisationRow, type UtilisationView } from '../domain/views.js';
import { doctorIdOf, pageOfRows } from './support.js';

/**
 * Admins see every doctor; a doctor only themself. Days are each clinic's local days; the range defaults
 * to the 30 days before and after today.
 */
export async function utilisationReport(em: EntityManager, actor: Actor, raw: UtilisationInput): Promise<Page<UtilisationView>> {
  const input = parseInput(utilisationInput, raw);
  let doctorId = input.doctorId;
  if (!isAdmin(actor)) {
    const own = await doctorIdOf(em, actor);
    if (!own) throw new ForbiddenError('the utilisation report needs the admin role, or to be a doctor');
    if (doctorId !== undefined && doctorId !== own) throw new ForbiddenError('doctors see their own utilisation only', 'doctorId');
    doctorId = own;
  }
  const today = localDateString(new Date(), 'UTC');
  const shift = (days: number) => new Date(Date.parse(today) + days * 86_400_000).toISOString().slice(0, 10);
  const from = input.from ? parseCalendarDate(input.from, 'from') : shift(-30);
  const to = input.to ? parseCalendarDate(input.to, 'to') : shift(30);
  const { rows, total } = await pageOfRows<UtilisationRow>(
    em,
    `with s as (
       select s.id, s.doctor_id, s.clinic_id, s.capacity, s.booked_count, (s.starts_at at time zone c.timezone)::date as day
         from slot s join clinic c on c.id = s.clinic_id
        where s.is_active and (s.starts_at at time zone c.timezone)::date between ?::date and ?::date
          and (?::int is null or s.clinic_id = ?::int) and (?::int is null or s.doctor_id = ?::int)
     ), a as (
       select a.slot_id, count(*) filter (where a.status = 'completed') as completed, count(*) filter (where a.status = 'no_show') as no_show,
              count(*) filter (where a.status = 'cancelled') as cancelled
         from appointment a where a.slot_id in (select id from s) group by a.slot_id
     )
     select to_char(s.day, 'YYYY-MM-DD') as date, s.doctor_id, u.name as doctor_name, s.clinic_id, c.name as clinic_name,
            count(*) as slots, sum(s.capacity) as capacity, sum(s.booked_count) as booked,
            coalesce(sum(a.completed), 0) as completed, coalesce(sum(a.no_show), 0) as no_show, coalesce(sum(a.cancelled), 0) as cancelled,
            count(*) over () as total
       from s left join a on a.slot_id = s.id
       join doctor d on d.id = s.doctor_id join "user" u on u.id = d.user_id join clinic c on c.id = s.clinic_id
      group by s.day, s.doctor_id, u.name, s.clinic_id, c.name
      order by s.day, s.doctor_id`,
    [from, to, input.clinicId ?? null, input.clinicId ?? null, doctorId ?? null, doctorId ?? null],
    input.limit,
    input.offset,
  );
  const items = rows.map(utilisationView);
  return { items, total, limit: input.limit, offset: input.offset };
}
