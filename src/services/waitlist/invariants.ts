// What `db verify` checks of the waitlist ("holds and offers consistent"): each is a name and SQL returning the
// rows that break it (none when all is well). The deferred triggers of migrations/Migration20261204010000_waitlist.ts
// keep the first true at every commit; the others are kept by the code in ./offers.ts and ./entries.ts.
export interface Invariant {
  readonly name: string;
  readonly sql: string;
}

export const WAITLIST_INVARIANTS: readonly Invariant[] = [
  {
    name: 'slot held_count equals its open offers',
    sql: `select s.id as slot_id, s.held_count, count(o.id)::int as open_offers
            from slot s left join waitlist_offer o on o.slot_id = s.id and o.status = 'open'
           group by s.id having s.held_count <> count(o.id)`,
  },
  {
    name: 'slot booked and held places within capacity',
    sql: 'select id as slot_id, booked_count, held_count, capacity from slot where booked_count + held_count > capacity or held_count < 0',
  },
  {
    name: 'an entry is offered exactly when it has one open offer',
    sql: `select e.id as entry_id, e.status, count(o.id)::int as open_offers
            from waitlist_entry e left join waitlist_offer o on o.entry_id = e.id and o.status = 'open'
           group by e.id having (e.status = 'offered') <> (count(o.id) = 1) or count(o.id) > 1`,
  },
  {
    name: 'an open offer is for its entry’s patient',
    sql: `select o.id as offer_id from waitlist_offer o join waitlist_entry e on e.id = o.entry_id where o.patient_id <> e.patient_id`,
  },
  {
    name: 'an accepted offer booked its patient, and its entry is fulfilled',
    sql: `select o.id as offer_id from waitlist_offer o join waitlist_entry e on e.id = o.entry_id left join appointment a on a.id = o.appointment_id
           where o.status = 'accepted'
             and (a.id is null or a.patient_id <> o.patient_id or e.status <> 'fulfilled')`,
  },
];
