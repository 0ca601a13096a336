// Named SQL of the waitlist: the offer and entry views, finding the next entry in line for a freed place, and
// making, closing and expiring the offers that hold places. `?` placeholders (support.ts query).
import type { Instant } from '../../domain/views.js';

/** The offer as the API shows it (WaitlistOfferView): the rows `o` with their slot, doctor, clinic and patient. */
export const OFFER_ROWS = `select o.id, o.entry_id, o.slot_id, o.patient_id, pu.name as patient_name, o.status, s.doctor_id, du.name as doctor_name,
         s.clinic_id, c.name as clinic_name, c.timezone, s.starts_at, s.ends_at, o.created_at, o.expires_at, o.closed_at, o.appointment_id
    from waitlist_offer o join slot s on s.id = o.slot_id join doctor d on d.id = s.doctor_id join "user" du on du.id = d.user_id
    join clinic c on c.id = s.clinic_id join patient p on p.id = o.patient_id join "user" pu on pu.id = p.user_id`;

export interface OfferRow {
  id: number;
  entry_id: number;
  slot_id: number;
  patient_id: number;
  patient_name: string;
  status: string;
  doctor_id: number;
  doctor_name: string;
  clinic_id: number;
  clinic_name: string;
  timezone: string;
  starts_at: Instant;
  ends_at: Instant;
  created_at: Instant;
  expires_at: Instant;
  closed_at: Instant | null;
  appointment_id: number | null;
}

/** The entry as the API shows it, without its offer (added from OFFER_ROWS). */
export const ENTRY_ROWS = `select e.id, e.patient_id, pu.name as patient_name, e.doctor_id, du.name as doctor_name, e.specialty, e.city, e.clinic_id,
         to_char(e.from_day, 'YYYY-MM-DD') as from_day, to_char(e.to_day, 'YYYY-MM-DD') as to_day, e.times::text as times, e.status,
         e.created_at, e.closed_at, count(*) over () as total
    from waitlist_entry e join patient p on p.id = e.patient_id join "user" pu on pu.id = p.user_id
    left join doctor d on d.id = e.doctor_id left join "user" du on du.id = d.user_id`;

export interface EntryRow {
  id: number;
  patient_id: number;
  patient_name: string;
  doctor_id: number | null;
  doctor_name: string | null;
  specialty: string | null;
  city: string | null;
  clinic_id: number | null;
  from_day: string;
  to_day: string;
  times: string | null;
  status: string;
  created_at: Instant;
  closed_at: Instant | null;
  total?: string | number;
}

/** The slot's local day and start minute, in its clinic's zone (the entries' windows are local). */
const LOCAL_START = `(s.starts_at at time zone c.timezone)`;

/**
 * The entry first in line for a place in slot ?1 (locked by the caller), at "now" ?2, passing over patient ?3
 * (who just freed it; 0 for none): waiting (no open offer), matching the slot's doctor or its specialty (and city
 * or clinic), its window containing the slot's local day and its times the local start, never offered this slot
 * before, for an active patient not booked at that time. Longest waiting first. The entry is locked FOR UPDATE
 * SKIP LOCKED (step 4 of ../locks.ts): one another transaction is offering a place to is passed over, not waited
 * for; and once that transaction commits the entry is `offered`, which the re-read of a locked row sees.
 */
export const NEXT_ENTRY = `select e.id, e.patient_id
    from slot s join doctor d on d.id = s.doctor_id join clinic c on c.id = s.clinic_id
    join waitlist_entry e on e.status = 'waiting'
         and (e.doctor_id = s.doctor_id
              or (e.doctor_id is null and lower(e.specialty) = lower(d.specialty)
                  and (e.clinic_id is null or e.clinic_id = s.clinic_id) and (e.city is null or lower(e.city) = lower(c.city))))
    join patient p on p.id = e.patient_id join "user" pu on pu.id = p.user_id
   where s.id = ? and s.is_active and d.is_active and c.is_active and s.starts_at > ?
     and s.booked_count + s.held_count < s.capacity
     and ${LOCAL_START}::date between e.from_day and e.to_day
     and (e.times is null or e.times @> (extract(hour from ${LOCAL_START}) * 60 + extract(minute from ${LOCAL_START}))::int)
     and e.patient_id <> ? and p.is_active and pu.is_active
     and not exists (select 1 from waitlist_offer o where o.entry_id = e.id and o.slot_id = s.id)
     and not exists (select 1 from waitlist_offer o where o.slot_id = s.id and o.patient_id = e.patient_id and o.status = 'open')
     and not exists (select 1 from appointment a where a.patient_id = e.patient_id and a.status = 'booked'
                        and tstzrange(a.starts_at, a.ends_at) && tstzrange(s.starts_at, s.ends_at))
   order by e.created_at, e.id
   limit 1
   for update of e skip locked`;

/**
 * An offer of slot ?3 to entry ?2's patient ?4, made at ?1, open until ?5 (or the slot's start, if sooner): the
 * place is held (held_count) and the entry is `offered`, in one statement. Returns the offer's id.
 */
export const MAKE_OFFER = `with offered as (
    insert into waitlist_offer (created_at, entry_id, slot_id, patient_id, status, expires_at)
    select ?::timestamptz, e.id, s.id, e.patient_id, 'open', least(?::timestamptz, s.starts_at)
      from waitlist_entry e, slot s where e.id = ? and s.id = ? and e.patient_id = ?
    returning id, created_at, slot_id, entry_id),
  held as (update slot set held_count = held_count + 1, updated_at = (select created_at from offered) where id = (select slot_id from offered) returning id),
  entry as (update waitlist_entry set status = 'offered', updated_at = (select created_at from offered) where id = (select entry_id from offered) returning id)
  select offered.id from offered, held, entry`;

/**
 * Closes open offer ?3 as ?1 (accepted, declined, expired, withdrawn) at ?2: its place is no longer held and its
 * entry goes to ?4 (waiting again, fulfilled or left). The caller holds the slot and the offer locked. Returns the
 * offer's id when it was open.
 */
export const CLOSE_OFFER = `with closed as (
    update waitlist_offer set status = ?, closed_at = ?::timestamptz where id = ? and status = 'open' returning id, slot_id, entry_id, closed_at),
  released as (update slot set held_count = held_count - 1, updated_at = (select closed_at from closed) where id = (select slot_id from closed) returning id),
  entry as (update waitlist_entry set status = ?, updated_at = (select closed_at from closed),
                   closed_at = case when ? in ('fulfilled', 'left') then (select closed_at from closed) else null end
             where id = (select entry_id from closed) returning id)
  select closed.id from closed, released, entry`;

/** The offer's slot and state, read before locking the slot (the slot of an offer never changes). */
export const OFFER_SLOT = 'select slot_id from waitlist_offer where id = ?';

/** The offer, locked FOR UPDATE after its slot (step 4 of ../locks.ts). */
export const LOCK_OFFER = `select id, entry_id, slot_id, patient_id, status, expires_at from waitlist_offer where id = ? for update`;

export interface LockedOfferRow {
  id: number;
  entry_id: number;
  slot_id: number;
  patient_id: number;
  status: string;
  expires_at: Instant;
}

/** Open offers due to expire at ?1, oldest deadline first, at most ?2. */
export const DUE_OFFERS = `select id from waitlist_offer where status = 'open' and expires_at <= ? order by expires_at, id limit ?`;

/** Waiting entries whose window has passed (their last day is before today in their zone) at ?1. Returns how many. */
export const EXPIRE_ENTRIES = `with expired as (
    update waitlist_entry set status = 'expired', closed_at = ?::timestamptz, updated_at = ?::timestamptz
     where status = 'waiting' and to_day < (?::timestamptz at time zone timezone)::date
    returning id)
  select count(*)::int as n from expired`;
