// What `db verify` checks of the waitlist ("holds and offers consistent"), in the shape of ../verify.ts: a
// name, the rule in words, and SQL returning one row per violation whose `id` names the record. The deferred
// triggers of migrations/Migration20261204010000_waitlist.ts keep the first true at every commit (the capacity
// with holds is slot_capacity in ../verify.ts); the others are kept by the code in ./offers.ts and ./entries.ts.
import type { Invariant } from '../verify.js';

export const WAITLIST_INVARIANTS: readonly Invariant[] = [
  {
    name: 'slot_held_count',
    rule: "a slot's held_count equals its open waitlist offers",
    sql: `select 'slot ' || s.id as id
            from slot s left join waitlist_offer o on o.slot_id = s.id and o.status = 'open'
           group by s.id having s.held_count <> count(o.id)`,
  },
  {
    name: 'waitlist_entry_offered',
    rule: 'a waitlist entry is offered exactly when it has one open offer',
    sql: `select 'waitlist entry ' || e.id as id
            from waitlist_entry e left join waitlist_offer o on o.entry_id = e.id and o.status = 'open'
           group by e.id having (e.status = 'offered') <> (count(o.id) = 1) or count(o.id) > 1`,
  },
  {
    name: 'waitlist_offer_patient',
    rule: "an offer is for its entry's patient",
    sql: `select 'waitlist offer ' || o.id as id from waitlist_offer o join waitlist_entry e on e.id = o.entry_id where o.patient_id <> e.patient_id`,
  },
  {
    name: 'waitlist_offer_accepted',
    rule: 'an accepted offer booked its patient, and its entry is fulfilled',
    sql: `select 'waitlist offer ' || o.id as id
            from waitlist_offer o join waitlist_entry e on e.id = o.entry_id left join appointment a on a.id = o.appointment_id
           where o.status = 'accepted' and (a.id is null or a.patient_id <> o.patient_id or e.status <> 'fulfilled')`,
  },
];
