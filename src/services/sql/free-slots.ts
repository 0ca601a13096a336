// Named SQL: the free-slot search (README, "where things go": searches are SQL, not entities). The bench
// times this same text through bare `pg` (bench/slots.ts), so the service and the baseline cannot drift.
import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { SlotRow } from '../../domain/views.js';
import { preparedQuery } from '../support.js';

/** What the search filters on; `from` and `to` are already instants (the service reads the typed dates). */
export interface FreeSlotsFilter {
  specialty?: string;
  city?: string;
  clinicId?: number;
  doctorId?: number;
  from: Date;
  to: Date;
}

/**
 * The free-slot search as SQL and parameters (placeholders `?`). Future slots are always at their doctor's
 * clinic (moving a doctor moves them), so every filter but the dates picks doctors first (`docs`, a
 * handful). Then, per doctor, an index-only scan of the partial, covering slot_free_cover_idx in starts_at
 * (partial on the places a booking can take: booked + held for the waitlist < capacity, the booking rule's own test)
 * order: the page needs at most limit + offset slots of each, and the total counts the same rows. Leave is
 * checked only for doctors with leave ending after `from` (few), so a plan made for any parameters is as good
 * as one made for these: PostgreSQL keeps the prepared statement's generic plan and does not replan on every
 * call (replanning cost more than running it).
 */
export function freeSlotsQuery(f: FreeSlotsFilter, limit: number, offset: number): { sql: string; params: unknown[] } {
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
  const free = () => `s.doctor_id = docs.id and s.is_active and s.booked_count + s.held_count < s.capacity
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
            select s.id, s.doctor_id, s.clinic_id, s.starts_at, s.ends_at, s.capacity, s.booked_count, s.held_count from slot s where ${free()}
             order by s.starts_at limit ${p(limit, '::int')} + ${p(offset, '::int')}) f
           order by f.starts_at, f.id limit ${p(limit, '::int')} offset ${p(offset, '::int')})
        select page.id, page.doctor_id, docs.doctor_name, docs.specialty, page.clinic_id, c.name as clinic_name, c.city, c.timezone,
               page.starts_at, page.ends_at, page.capacity, page.booked_count, page.held_count, true as is_active,
               (select count(*) from docs join slot s on ${free()}) as total
          from page join docs on docs.id = page.doctor_id join clinic c on c.id = page.clinic_id
         order by page.starts_at, page.id`;
  return { sql, params };
}

/**
 * One page of free slots, each row carrying the total. Prepared, so PostgreSQL plans each shape of the
 * search once per connection, not once per call.
 */
export function findFreeSlots(em: EntityManager, f: FreeSlotsFilter, limit: number, offset: number): Promise<SlotRow[]> {
  const { sql, params } = freeSlotsQuery(f, limit, offset);
  return preparedQuery<SlotRow>(em, statementName(sql), sql, params);
}

// One prepared statement per shape of the search (which filters are given): a handful of texts.
const statementNames = new Map<string, string>();
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (!name) {
    name = `ascend_free_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`;
    statementNames.set(sql, name);
  }
  return name;
}
