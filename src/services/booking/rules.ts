// The rules of a booking, defined ONCE: each is a SQL guard (true when the booking may go ahead) and the
// refusal it stands for. The booking statement ANDs the guards (./sql.ts: one statement books or books
// nothing), and when it books nothing the explanation evaluates each guard as a column and throws the first
// failing rule's refusal. A rule added here is in both at once; test/services/booking.test.ts drives every
// refusal through booking and rescheduling.
//
// One rule is not here: the doctor's daily maximum. The deferred trigger appointment_doctor_day_max counts it
// at commit under an advisory lock (it must, for races), and counting it in the statement as well cost an
// eighth of a booking; `bookingRefusal` (./core.ts) gives its refusal the same words on every path.
import { ConflictError, type DomainError, NotFoundError, SlotFullError } from '../../domain/errors.js';

/**
 * The parameters every guard may use, by position, in each statement of ./sql.ts that evaluates them (those
 * statements number their own parameters after these).
 */
export const ARG = {
  patientId: '$1::int',
  slotId: '$2::int',
  /** What "now" is for the booking (the clock). */
  at: '$3::timestamptz',
  /** The appointment being moved into the slot (a reschedule): the rules ignore it. 0 for a new booking. */
  exceptAppointmentId: '$4::int',
} as const;

/**
 * The rows the guards read: the slot `s`, its doctor `d` (and their user `du`), its clinic `c`, and the patient
 * `p` with their user `pu` (null when there is no such patient: the rule patient-missing says so).
 */
export const RULE_ROWS = `slot s join doctor d on d.id = s.doctor_id join "user" du on du.id = d.user_id join clinic c on c.id = s.clinic_id
       left join patient p on p.id = ${ARG.patientId} left join "user" pu on pu.id = p.user_id
      where s.id = ${ARG.slotId}`;

export interface Refused {
  slotId: number;
  patientId: number;
  /** What the rule's `detail` found (an id, a count), as text. */
  detail: string | null;
}

export interface BookingRule {
  /** Names the rule (and its column in the explanation). */
  readonly name: string;
  /** SQL over RULE_ROWS and ARG: true when this rule lets the booking through (null counts as false). */
  readonly guard: string;
  /** SQL for what the refusal names (an id, a count), evaluated only to explain a refusal. */
  readonly detail?: string;
  readonly refuse: (r: Refused) => DomainError;
}

/** A rule that refuses while some row exists: its guard is "no such row", its detail the first one's id. */
function noneExists(alias: string, fromWhere: string): Pick<BookingRule, 'guard' | 'detail'> {
  return { guard: `not exists (select 1 from ${fromWhere})`, detail: `(select ${alias}.id from ${fromWhere} order by ${alias}.id limit 1)` };
}

/** In order: the explanation throws the first that fails. */
export const BOOKING_RULES: readonly BookingRule[] = [
  {
    name: 'slot-deleted',
    guard: 's.is_active',
    refuse: (r) => new ConflictError(`slot ${r.slotId} is not available (it was deleted)`, 'slotId'),
  },
  {
    name: 'slot-started',
    guard: `s.starts_at > ${ARG.at}`,
    refuse: (r) => new ConflictError(`slot ${r.slotId} has already started`, 'slotId'),
  },
  {
    name: 'slot-full',
    // Places held for the waitlist's open offers are taken too (migrations/Migration20261204010000_waitlist.ts).
    guard: 's.booked_count + s.held_count < s.capacity',
    detail: `s.booked_count || '/' || s.capacity || case when s.held_count > 0 then ', ' || s.held_count || ' held for the waitlist' else '' end`,
    refuse: (r) => new SlotFullError(`slot ${r.slotId} is full (${r.detail})`, 'slotId'),
  },
  {
    name: 'doctor-or-clinic-inactive',
    guard: 'd.is_active and c.is_active',
    refuse: (r) => new ConflictError(`slot ${r.slotId} is not available: its doctor or clinic is deactivated`, 'slotId'),
  },
  {
    name: 'doctor-on-leave',
    ...noneExists('l', 'doctor_leave l where l.doctor_id = s.doctor_id and tstzrange(l.starts_at, l.ends_at) && tstzrange(s.starts_at, s.ends_at)'),
    refuse: (r) => new ConflictError(`slot ${r.slotId} is not available: the doctor is on leave then (leave ${r.detail})`, 'slotId'),
  },
  {
    name: 'patient-missing',
    guard: 'p.id is not null',
    refuse: (r) => new NotFoundError('patient', r.patientId, 'patientId'),
  },
  {
    name: 'patient-inactive',
    guard: 'p.is_active and pu.is_active',
    refuse: (r) => new ConflictError(`patient ${r.patientId} is deactivated`, 'patientId'),
  },
  {
    name: 'patient-holds-slot',
    ...noneExists('a', `appointment a where a.slot_id = s.id and a.patient_id = p.id and a.status <> 'cancelled' and a.id <> ${ARG.exceptAppointmentId}`),
    refuse: (r) => new ConflictError(`patient ${r.patientId} already holds slot ${r.slotId} (appointment ${r.detail})`, 'slotId'),
  },
  {
    name: 'patient-busy-then',
    ...noneExists(
      'a',
      `appointment a where a.patient_id = p.id and a.status = 'booked' and a.id <> ${ARG.exceptAppointmentId} and tstzrange(a.starts_at, a.ends_at) && tstzrange(s.starts_at, s.ends_at)`,
    ),
    refuse: (r) => new ConflictError(`patient ${r.patientId} already has appointment ${r.detail} at that time`, 'slotId'),
  },
];
