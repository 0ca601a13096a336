// Appointments: booking without double-booking under any concurrency, cancelling, rescheduling, finishing.
// Every path follows the lock order of ./locks.ts: slots (in id order) before appointments, and never a doctor
// after a slot; so two transactions never wait for each other in a circle. The schema backs every rule.
import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { parseDuration } from '../domain/durations.js';
import { AuthError, ConflictError, ForbiddenError, NotFoundError, SlotFullError, ValidationError } from '../domain/errors.js';
import { actorId, isAdmin, type Actor } from '../domain/roles.js';
import type { Page } from '../domain/schemas/common.js';
import { id as idSchema } from '../domain/schemas/common.js';
import {
  bookInput,
  cancelInput,
  listAppointmentsInput,
  noteInput,
  rescheduleInput,
  type BookInput,
  type CancelInput,
  type ListAppointmentsInput,
  type NoteInput,
  type RescheduleInput,
} from '../domain/schemas/appointments.js';
import { formatLocal, parseDateInput } from '../domain/time.js';
import { parseInput } from '../domain/validation.js';
import { appointmentView, iso, type AppointmentRow, type AppointmentView, type Instant } from '../domain/views.js';
import { audit } from './audit.js';
import { LockRace, lockSlots, transaction } from './locks.js';
import { constraintOf, doctorIdOf, intArray, pageOfRows, patientIdOf, preparedQuery, query } from './support.js';

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
    `select a.id, a.slot_id, a.patient_id, pu.name as patient_name, a.doctor_id, du.name as doctor_name,
            a.clinic_id, c.name as clinic_name, c.timezone, a.starts_at, a.ends_at, a.status, a.reason, a.notes,
            a.cancelled_at, a.cancel_reason, a.created_at, a.updated_at, count(*) over () as total
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

/**
 * Cancels booked appointments and frees their places, inside the caller's transaction. Their slots are
 * locked first, in id order, then the appointments (the lock order of ./locks.ts), so this cannot deadlock
 * with a booking or a cancellation running at the same time; appointments already cancelled meanwhile are
 * skipped, so nothing is freed twice. An appointment moved to another slot between the look and the lock
 * is a LockRace: the caller's transaction runs again. Returns the ids cancelled.
 */
export async function cancelBookedAppointments(em: EntityManager, actor: Actor, appointmentIds: number[], reason: string): Promise<number[]> {
  if (!appointmentIds.length) return [];
  const slots = await query<{ slot_id: number }>(em, 'select distinct slot_id from appointment where id = any(?::int[])', [intArray(appointmentIds)]);
  const locked = new Set(
    await lockSlots(
      em,
      slots.map((s) => s.slot_id),
    ),
  );
  const cancelled = await query<{ id: number; slot_id: number }>(
    em,
    `update appointment set status = 'cancelled', cancelled_at = now(), cancel_reason = ?, updated_at = now()
      where id = any(?::int[]) and status = 'booked' returning id, slot_id`,
    [reason, intArray(appointmentIds)],
  );
  if (cancelled.some((c) => !locked.has(c.slot_id))) throw new LockRace('the slot of an appointment being cancelled');
  const perSlot = new Map<number, number>();
  for (const c of cancelled) perSlot.set(c.slot_id, (perSlot.get(c.slot_id) ?? 0) + 1);
  if (perSlot.size) {
    await query(
      em,
      `update slot s set booked_count = s.booked_count - f.n, updated_at = now()
         from unnest(?::int[], ?::int[]) as f(slot_id, n) where s.id = f.slot_id`,
      [intArray([...perSlot.keys()]), intArray([...perSlot.values()])],
    );
  }
  for (const c of cancelled) {
    audit(em, actor, {
      action: 'appointment.cancel',
      entity: 'appointment',
      entityId: c.id,
      before: { status: 'booked' },
      after: { status: 'cancelled', cancelReason: reason },
    });
  }
  return cancelled.map((c) => c.id);
}

// ---------------------------------------------------------------------------------------------------------
// Who may see what

/** A SQL condition on `a` (appointment) for what the actor may see: admins all, doctors theirs, patients theirs. */
async function visibleAppointments(em: EntityManager, actor: Actor): Promise<{ sql: string; params: unknown[] }> {
  if (isAdmin(actor)) return { sql: 'true', params: [] };
  const patientId = await patientIdOf(em, actor);
  if (patientId) return { sql: 'a.patient_id = ?', params: [patientId] };
  const doctorId = await doctorIdOf(em, actor);
  if (doctorId) return { sql: 'a.doctor_id = ?', params: [doctorId] };
  return { sql: 'false', params: [] };
}

/** One appointment the actor may see; anything else is "not found", so ids cannot be probed. */
export async function getAppointment(em: EntityManager, actor: Actor, id: number): Promise<AppointmentView> {
  const appointmentId = parseInput(idSchema, id);
  const visible = await visibleAppointments(em, actor);
  const { items } = await findAppointments(em, `a.id = ? and ${visible.sql}`, [appointmentId, ...visible.params], { limit: 1, offset: 0 });
  if (!items[0]) throw new NotFoundError('appointment', id);
  return items[0];
}

export async function listAppointments(em: EntityManager, actor: Actor, raw: ListAppointmentsInput): Promise<Page<AppointmentView>> {
  const input = parseInput(listAppointmentsInput, raw);
  const visible = await visibleAppointments(em, actor);
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
  if (input.status) {
    where.push('a.status = ?');
    params.push(input.status);
  }
  // Dates are read in the zone of the doctor or clinic filtered on, else UTC.
  let tz = 'UTC';
  if (input.from || input.to) {
    const [z] = input.doctorId
      ? await query<{ timezone: string }>(em, 'select c.timezone from doctor d join clinic c on c.id = d.clinic_id where d.id = ?', [input.doctorId])
      : input.clinicId
        ? await query<{ timezone: string }>(em, 'select timezone from clinic where id = ?', [input.clinicId])
        : [];
    tz = z?.timezone ?? 'UTC';
  }
  if (input.from) {
    where.push('a.starts_at >= ?');
    params.push(parseDateInput(input.from, tz, 'from').instant);
  }
  if (input.to) {
    where.push('a.starts_at < ?');
    params.push(parseDateInput(input.to, tz, 'to', { endOfDay: true }).instant);
  }
  const result = await findAppointments(em, where.join(' and '), params, { limit: input.limit, offset: input.offset, order: 'asc' });
  return { ...result, limit: input.limit, offset: input.offset };
}

// ---------------------------------------------------------------------------------------------------------
// Booking

/** Whose appointment this is: patients book for themselves, admins for anyone, doctors never. */
async function bookingPatient(em: EntityManager, actor: Actor, patientId: number | undefined): Promise<number> {
  if (actor.kind === 'user' && actor.role === 'doctor') throw new ForbiddenError('doctors do not book appointments; an admin or the patient does');
  if (actor.kind === 'user' && actor.role === 'patient') {
    const own = await patientIdOf(em, actor);
    if (!own) throw new ForbiddenError('your user has no patient record; ask an admin');
    if (patientId !== undefined && patientId !== own) throw new ForbiddenError('patients book for themselves only', 'patientId');
    return own;
  }
  if (patientId === undefined) throw new ValidationError('is required when an admin books', 'patientId');
  return patientId;
}

interface BookingChecks {
  open: boolean;
  max_per_day: number;
  timezone: string;
  on_leave: number | null;
  patient_active: boolean | null;
  same_slot: number | null;
  overlapping: number | null;
  booked_that_day: string;
}

/**
 * Every rule of a booking, checked one by one against a slot the caller has locked FOR UPDATE, to say which
 * one refuses. (Two bookings racing for the last place of a doctor's day are settled by the database: the
 * deferred trigger appointment_doctor_day_max.)
 */
async function assertBookable(
  em: EntityManager,
  slot: Pick<LockedSlot, 'id' | 'isActive' | 'startsAt' | 'bookedCount' | 'capacity'>,
  patientId: number,
  exceptAppointmentId = 0,
): Promise<void> {
  if (!slot.isActive) throw new ConflictError(`slot ${slot.id} is not available (it was deleted)`, 'slotId');
  if (slot.startsAt.getTime() <= Date.now()) throw new ConflictError(`slot ${slot.id} has already started`, 'slotId');
  if (slot.bookedCount >= slot.capacity) throw new SlotFullError(`slot ${slot.id} is full (${slot.bookedCount}/${slot.capacity})`, 'slotId');
  const [c] = await query<BookingChecks>(
    em,
    `select d.is_active and c.is_active as open, d.max_patients_per_day as max_per_day, c.timezone,
            (select l.id from doctor_leave l where l.doctor_id = s.doctor_id and tstzrange(l.starts_at, l.ends_at) && tstzrange(s.starts_at, s.ends_at) limit 1) as on_leave,
            (select p.is_active and u.is_active from patient p join "user" u on u.id = p.user_id where p.id = ?) as patient_active,
            (select a.id from appointment a where a.slot_id = s.id and a.patient_id = ? and a.status <> 'cancelled' and a.id <> ? limit 1) as same_slot,
            (select a.id from appointment a where a.patient_id = ? and a.status = 'booked' and a.id <> ?
                and tstzrange(a.starts_at, a.ends_at) && tstzrange(s.starts_at, s.ends_at) limit 1) as overlapping,
            (select count(*) from appointment a where a.doctor_id = s.doctor_id and a.status <> 'cancelled' and a.id <> ?
                and a.starts_at >= ((s.starts_at at time zone c.timezone)::date::timestamp at time zone c.timezone)
                and a.starts_at < (((s.starts_at at time zone c.timezone)::date + 1)::timestamp at time zone c.timezone)) as booked_that_day
       from slot s join doctor d on d.id = s.doctor_id join clinic c on c.id = s.clinic_id where s.id = ?`,
    [patientId, patientId, exceptAppointmentId, patientId, exceptAppointmentId, exceptAppointmentId, slot.id],
  );
  if (!c!.open) throw new ConflictError(`slot ${slot.id} is not available: its doctor or clinic is deactivated`, 'slotId');
  if (c!.on_leave) throw new ConflictError(`slot ${slot.id} is not available: the doctor is on leave then (leave ${c!.on_leave})`, 'slotId');
  if (c!.patient_active === null) throw new NotFoundError('patient', patientId, 'patientId');
  if (!c!.patient_active) throw new ConflictError(`patient ${patientId} is deactivated`, 'patientId');
  if (c!.same_slot) throw new ConflictError(`patient ${patientId} already holds slot ${slot.id} (appointment ${c!.same_slot})`, 'slotId');
  if (c!.overlapping) throw new ConflictError(`patient ${patientId} already has appointment ${c!.overlapping} at that time`, 'slotId');
  if (Number(c!.booked_that_day) >= c!.max_per_day) {
    throw new ConflictError(
      `the doctor is fully booked on ${formatLocal(slot.startsAt, c!.timezone).slice(0, 10)} (${c!.max_per_day} appointments a day)`,
      'slotId',
    );
  }
}

/** The slot row a booking holds locked (FOR UPDATE) until it commits: what the rules and the reply read. */
interface LockedSlot {
  id: number;
  doctorId: number;
  clinicId: number;
  startsAt: Date;
  endsAt: Date;
  capacity: number;
  bookedCount: number;
  isActive: boolean;
}

/**
 * The slot, fetched with a pessimistic write lock (SELECT … FOR UPDATE) in the booking's transaction. A
 * prepared statement read as a plain record rather than em.findOne(Slot, id, { lockMode }): the booking writes
 * through one statement, so a managed entity would give the unit of work nothing to track, and building and
 * merging it (and the ORM's query) cost a quarter of serve's CPU per booking (`npm run bench -- http`).
 */
async function lockSlot(tx: EntityManager, slotId: number): Promise<LockedSlot | null> {
  const [row] = await preparedQuery<{
    id: number;
    doctor_id: number;
    clinic_id: number;
    starts_at: Instant;
    ends_at: Instant;
    capacity: number;
    booked_count: number;
    is_active: boolean;
  }>(tx, 'ascend_lock_slot_row', 'select id, doctor_id, clinic_id, starts_at, ends_at, capacity, booked_count, is_active from slot where id = ? for update', [
    slotId,
  ]);
  if (!row) return null;
  return {
    id: row.id,
    doctorId: row.doctor_id,
    clinicId: row.clinic_id,
    startsAt: new Date(row.starts_at),
    endsAt: new Date(row.ends_at),
    capacity: row.capacity,
    bookedCount: row.booked_count,
    isActive: row.is_active,
  };
}

/** The schema's refusals, in the words of a booking. */
function bookingRefusal(err: unknown, patientId: number, slotId: number): unknown {
  const { constraint } = constraintOf(err);
  switch (constraint) {
    case 'appointment_one_live_per_slot_patient':
      return new ConflictError(`patient ${patientId} already holds slot ${slotId}`, 'slotId');
    case 'appointment_patient_no_overlap':
      return new ConflictError(`patient ${patientId} already has an appointment at that time`, 'slotId');
    case 'slot_booked_within_capacity':
      return new SlotFullError(`slot ${slotId} is full`, 'slotId');
    case 'appointment_doctor_day_max': {
      const [, day, max] = /fully booked on (\S+) \((\d+) appointments a day\)/.exec((err as Error).message) ?? [];
      return new ConflictError(day ? `the doctor is fully booked on ${day} (${max} appointments a day)` : 'the doctor is fully booked that day', 'slotId');
    }
    default:
      return err;
  }
}

/**
 * Books a place in a slot: one unit of work around the slot fetched with a pessimistic write lock. Checks
 * every rule, inserts the appointment, increments booked_count and audits, then commits. With an
 * idempotency key, a retry returns the first booking instead of booking again.
 */
export async function bookAppointment(em: EntityManager, actor: Actor, raw: BookInput): Promise<AppointmentView> {
  const input = parseInput(bookInput, raw);
  const patientId = await bookingPatient(em, actor, input.patientId);
  // What the request asked for: a key reused with another request is refused, not answered with the first.
  const fingerprint = input.idempotencyKey
    ? createHash('sha256')
        .update(JSON.stringify([input.slotId, patientId, input.reason ?? null]))
        .digest('hex')
    : null;
  if (input.idempotencyKey) {
    const prior = await byIdempotencyKey(em, actor, input.idempotencyKey, fingerprint!);
    if (prior) return prior;
  }
  let booked: AppointmentView | number;
  try {
    booked = await transaction(em, async (tx) => {
      const slot = await lockSlot(tx, input.slotId);
      if (!slot) throw new NotFoundError('slot', input.slotId, 'slotId');
      if (input.idempotencyKey) {
        // A retry that waited for this lock behind its first attempt finds that attempt committed.
        const [prior] = await query<{ id: number }>(tx, 'select id from appointment where idempotency_key = ?', [input.idempotencyKey]);
        if (prior) return prior.id;
      }
      if (!slot.isActive || slot.startsAt.getTime() <= Date.now() || slot.bookedCount >= slot.capacity) await assertBookable(tx, slot, patientId);
      // The rules, the insert, the increment and the audit in one statement (this is the hot path). When the
      // guards let nothing through, the same rules run one by one to say which one refused. The doctor's daily
      // maximum is not among the guards: the deferred trigger appointment_doctor_day_max counts at commit
      // under an advisory lock (it must, for races), and counting twice cost an eighth of the booking.
      const [row] = await preparedQuery<{ id: number; created_at: Instant; doctor_name: string; clinic_name: string; timezone: string; patient_name: string }>(
        tx,
        'ascend_book',
        `with ok as (
           select s.id, s.doctor_id, s.clinic_id, s.starts_at, s.ends_at, du.name as doctor_name, c.name as clinic_name, c.timezone, pu.name as patient_name
             from slot s join doctor d on d.id = s.doctor_id join "user" du on du.id = d.user_id join clinic c on c.id = s.clinic_id
             join patient p on p.id = ? join "user" pu on pu.id = p.user_id
            where s.id = ? and d.is_active and c.is_active and p.is_active and pu.is_active
              and not exists (select 1 from doctor_leave l where l.doctor_id = s.doctor_id and tstzrange(l.starts_at, l.ends_at) && tstzrange(s.starts_at, s.ends_at))
              and not exists (select 1 from appointment a where a.slot_id = s.id and a.patient_id = p.id and a.status <> 'cancelled')
              and not exists (select 1 from appointment a where a.patient_id = p.id and a.status = 'booked' and tstzrange(a.starts_at, a.ends_at) && tstzrange(s.starts_at, s.ends_at))),
         a as (
           insert into appointment (slot_id, patient_id, doctor_id, clinic_id, starts_at, ends_at, status, reason, idempotency_key, idempotency_fingerprint)
           select ok.id, ?, ok.doctor_id, ok.clinic_id, ok.starts_at, ok.ends_at, 'booked', ?, ?, ? from ok
           returning id, slot_id, created_at),
         s as (update slot set booked_count = booked_count + 1, updated_at = now() where id = (select slot_id from a) returning booked_count, capacity),
         e as (insert into audit_event (actor_id, action, entity, entity_id, after)
               select ?, 'appointment.book', 'appointment', a.id::text,
                      jsonb_build_object('slotId', a.slot_id, 'patientId', ?::int, 'status', 'booked', 'bookedCount', s.booked_count, 'capacity', s.capacity)
                 from a, s)
         select a.id, a.created_at, ok.doctor_name, ok.clinic_name, ok.timezone, ok.patient_name from a, ok`,
        [patientId, slot.id, patientId, input.reason ?? null, input.idempotencyKey ?? null, fingerprint, actorId(actor), patientId],
      );
      if (!row) {
        await assertBookable(tx, slot, patientId);
        throw new ConflictError(`slot ${slot.id} cannot be booked now`, 'slotId');
      }
      const at = iso(row.created_at)!;
      return {
        id: row.id,
        slotId: slot.id,
        patientId,
        patientName: row.patient_name,
        doctorId: slot.doctorId,
        doctorName: row.doctor_name,
        clinicId: slot.clinicId,
        clinicName: row.clinic_name,
        timezone: row.timezone,
        startsAt: slot.startsAt.toISOString(),
        endsAt: slot.endsAt.toISOString(),
        status: 'booked',
        reason: input.reason ?? null,
        notes: null,
        cancelledAt: null,
        cancelReason: null,
        createdAt: at,
        updatedAt: at,
      } satisfies AppointmentView;
    });
  } catch (err) {
    // Two retries with one key raced: the loser returns the winner's booking.
    if (input.idempotencyKey && constraintOf(err).constraint === 'appointment_idempotency_key_unique') {
      const prior = await byIdempotencyKey(em.fork(), actor, input.idempotencyKey, fingerprint!);
      if (prior) return prior;
    }
    throw bookingRefusal(err, patientId, input.slotId);
  }
  if (typeof booked === 'number') return (await byIdempotencyKey(em.fork(), actor, input.idempotencyKey!, fingerprint!))!;
  return booked;
}

async function byIdempotencyKey(em: EntityManager, actor: Actor, key: string, fingerprint: string): Promise<AppointmentView | undefined> {
  const [row] = await query<{ id: number; idempotency_fingerprint: string | null }>(
    em,
    'select id, idempotency_fingerprint from appointment where idempotency_key = ?',
    [key],
  );
  if (!row) return undefined;
  if (row.idempotency_fingerprint !== fingerprint) throw new ValidationError('was already used for a different booking request', 'idempotencyKey');
  return getAppointment(em, actor, row.id);
}

// ---------------------------------------------------------------------------------------------------------
// Changing an appointment

/** How long before the start a patient may still cancel or reschedule (ASCEND_CANCEL_CUTOFF, default 2h). */
export function cancelCutoffMs(env: NodeJS.ProcessEnv = process.env): number {
  return parseDuration(env.ASCEND_CANCEL_CUTOFF ?? '2h', 'ASCEND_CANCEL_CUTOFF') * 1000;
}

interface LockedAppointment {
  id: number;
  slot_id: number;
  patient_id: number;
  doctor_id: number;
  status: string;
  starts_at: Instant;
}

/**
 * Loads an appointment the actor may see and locks its slot (and, for a reschedule, the new slot: both in
 * id order), then the appointment row (./locks.ts). Should the appointment have moved to another slot
 * between the look and the lock, the transaction runs again (LockRace) rather than lock that slot late.
 */
async function lockForChange(tx: EntityManager, actor: Actor, id: number, extraSlotId?: number): Promise<LockedAppointment> {
  const appointmentId = parseInput(idSchema, id);
  const { slotId } = await getAppointment(tx, actor, appointmentId); // not found for those who may not see it
  await lockSlots(tx, [slotId, ...(extraSlotId ? [extraSlotId] : [])]);
  const [row] = await query<LockedAppointment>(tx, 'select id, slot_id, patient_id, doctor_id, status, starts_at from appointment where id = ? for update', [
    appointmentId,
  ]);
  if (row!.slot_id !== slotId) throw new LockRace(`the slot of appointment ${appointmentId}`);
  return row!;
}

function assertPatientBeforeCutoff(actor: Actor, a: LockedAppointment, verb: 'cancel' | 'reschedule'): void {
  if (isAdmin(actor)) return;
  if (actor.kind !== 'user') throw new AuthError('not logged in');
  if (actor.role !== 'patient') throw new ForbiddenError(`to ${verb} an appointment needs the admin role, or to be its patient`);
  const cutoff = cancelCutoffMs();
  if (new Date(a.starts_at).getTime() - Date.now() < cutoff) {
    throw new ConflictError(`too late to ${verb} online: patients may do so until ${cutoff / 60_000} minutes before the start; ask the clinic`);
  }
}

export async function cancelAppointment(em: EntityManager, actor: Actor, id: number, raw: CancelInput = {}): Promise<AppointmentView> {
  const input = parseInput(cancelInput, raw);
  await transaction(em, async (tx) => {
    const a = await lockForChange(tx, actor, id);
    if (a.status !== 'booked') throw new ConflictError(`appointment ${a.id} is already ${a.status.replace('_', '-')}`);
    assertPatientBeforeCutoff(actor, a, 'cancel');
    await cancelBookedAppointments(
      tx,
      actor,
      [a.id],
      input.reason ?? (actor.kind === 'user' && actor.role === 'patient' ? 'cancelled by the patient' : 'cancelled by the clinic'),
    );
  });
  return getAppointment(em.fork(), actor, id);
}

/**
 * Moves an appointment to another slot atomically: both slots are locked in id order (two crossing
 * reschedules cannot deadlock), the new place is checked and taken, and only then is the old one freed.
 */
export async function rescheduleAppointment(em: EntityManager, actor: Actor, id: number, raw: RescheduleInput): Promise<AppointmentView> {
  const input = parseInput(rescheduleInput, raw);
  try {
    await transaction(em, async (tx) => {
      const a = await lockForChange(tx, actor, id, input.slotId);
      if (a.status !== 'booked') throw new ConflictError(`appointment ${a.id} is ${a.status.replace('_', '-')}, not booked`);
      assertPatientBeforeCutoff(actor, a, 'reschedule');
      if (a.slot_id === input.slotId) throw new ConflictError(`appointment ${a.id} is already in slot ${input.slotId}`, 'slotId');
      const slot = await lockSlot(tx, input.slotId);
      if (!slot) throw new NotFoundError('slot', input.slotId, 'slotId');
      await assertBookable(tx, slot, a.patient_id, a.id);
      await query(
        tx,
        `update appointment set slot_id = s.id, doctor_id = s.doctor_id, clinic_id = s.clinic_id, starts_at = s.starts_at, ends_at = s.ends_at, updated_at = now()
           from slot s where s.id = ? and appointment.id = ?`,
        [slot.id, a.id],
      );
      await query(tx, 'update slot set booked_count = booked_count + (case when id = ? then 1 else -1 end), updated_at = now() where id in (?, ?)', [
        slot.id,
        slot.id,
        a.slot_id,
      ]);
      audit(tx, actor, { action: 'appointment.reschedule', entity: 'appointment', entityId: a.id, before: { slotId: a.slot_id }, after: { slotId: slot.id } });
    });
  } catch (err) {
    throw bookingRefusal(err, 0, input.slotId);
  }
  return getAppointment(em.fork(), actor, id);
}

/** After the start, the appointment's doctor (or an admin) records how it went. */
async function finish(em: EntityManager, actor: Actor, id: number, status: 'completed' | 'no_show'): Promise<AppointmentView> {
  await transaction(em, async (tx) => {
    const a = await lockForChange(tx, actor, id);
    await assertTheDoctorOrAdmin(tx, actor, a, status === 'completed' ? 'completing an appointment' : 'marking a no-show');
    if (a.status !== 'booked') throw new ConflictError(`appointment ${a.id} is already ${a.status.replace('_', '-')}`);
    if (new Date(a.starts_at).getTime() > Date.now()) throw new ConflictError(`appointment ${a.id} has not started yet`);
    // booked_count is unchanged: a completed or missed appointment still used its place.
    await query(tx, 'update appointment set status = ?, updated_at = now() where id = ?', [status, a.id]);
    audit(tx, actor, {
      action: `appointment.${status === 'completed' ? 'complete' : 'no-show'}`,
      entity: 'appointment',
      entityId: a.id,
      before: { status: 'booked' },
      after: { status },
    });
  });
  return getAppointment(em.fork(), actor, id);
}

async function assertTheDoctorOrAdmin(em: EntityManager, actor: Actor, a: LockedAppointment, what: string): Promise<void> {
  if (isAdmin(actor)) return;
  if (actor.kind === 'user' && actor.role === 'doctor' && (await doctorIdOf(em, actor)) === a.doctor_id) return;
  throw new ForbiddenError(`${what} needs the admin role, or to be the appointment's doctor`);
}

export const completeAppointment = (em: EntityManager, actor: Actor, id: number) => finish(em, actor, id, 'completed');
export const markNoShow = (em: EntityManager, actor: Actor, id: number) => finish(em, actor, id, 'no_show');

/** The doctor's notes on a visit (replacing earlier notes). */
export async function noteAppointment(em: EntityManager, actor: Actor, id: number, raw: NoteInput): Promise<AppointmentView> {
  const input = parseInput(noteInput, raw);
  await transaction(em, async (tx) => {
    const appointmentId = parseInput(idSchema, id);
    await getAppointment(tx, actor, appointmentId);
    const [a] = await query<LockedAppointment & { notes: string | null }>(
      tx,
      'select id, slot_id, patient_id, doctor_id, status, starts_at, notes from appointment where id = ? for update',
      [appointmentId],
    );
    await assertTheDoctorOrAdmin(tx, actor, a!, 'writing notes');
    await query(tx, 'update appointment set notes = ?, updated_at = now() where id = ?', [input.text, a!.id]);
    audit(tx, actor, { action: 'appointment.note', entity: 'appointment', entityId: a!.id, before: { notes: a!.notes }, after: { notes: input.text } });
  });
  return getAppointment(em.fork(), actor, id);
}
