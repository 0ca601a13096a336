// Named SQL: the utilisation report (README, "where things go": reports are SQL, not entities).
import type { EntityManager } from '@mikro-orm/postgresql';
import type { UtilisationRow } from '../../domain/views.js';
import { pageOfRows } from '../support.js';

export interface UtilisationFilter {
  /** Clinic-local days, YYYY-MM-DD, both included. */
  from: string;
  to: string;
  clinicId: number | null;
  doctorId: number | null;
}

/**
 * Offered capacity, bookings and outcomes per doctor and clinic-local day, soonest first. A slot's day is the
 * day of its start in its clinic's zone; deleted (inactive) slots are not offered and do not count.
 */
export function utilisationRows(em: EntityManager, f: UtilisationFilter, limit: number, offset: number): Promise<{ rows: UtilisationRow[]; total: number }> {
  return pageOfRows<UtilisationRow>(
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
    [f.from, f.to, f.clinicId, f.clinicId, f.doctorId, f.doctorId],
    limit,
    offset,
  );
}
