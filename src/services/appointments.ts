// Appointments. [4/5] brings booking; the directory already needs to read a patient's history and to cancel
// live bookings when a doctor goes on leave or is deactivated.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../domain/roles.js';
import { iso, type AppointmentView, type Instant } from '../domain/views.js';
import { audit } from './audit.js';
import { intArray, query } from './support.js';

interface AppointmentRow {
  id: number;
  slot_id: number;
  patient_id: number;
  patient_name: string;
  doctor_id: number;
  doctor_name: string;
  clinic_id: number;
  clinic_name: string;
  timezone: string;
  starts_at: Instant;
  ends_at: Instant;
  status: string;
  reason: string | null;
  notes: string | null;
  cancelled_at: Instant | null;
  cancel_reason: string | null;
  created_at: Instant;
  updated_at: Instant;
  total?: string | number;
}

function appointmentView(r: AppointmentRow): AppointmentView {
  return {
    id: r.id,
    slotId: r.slot_id,
    patientId: r.patient_id,
    patientName: r.patient_name,
    doctorId: r.doctor_id,
    doctorName: r.doctor_name,
    clinicId: r.clinic_id,
    clinicName: r.clinic_name,
    timezone: r.timezone,
    startsAt: iso(r.starts_at)!,
    endsAt: iso(r.ends_at)!,
    status: r.status,
    reason: r.reason,
    notes: r.notes,
    cancelledAt: iso(r.cancelled_at),
    cancelReason: r.cancel_reason,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
  };
}

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
  const rows = await query<AppointmentRow>(
    em,
    `select a.id, a.slot_id, a.patient_id, pu.name as patient_name, a.doctor_id, du.name as doctor_name,
            a.clinic_id, c.name as clinic_name, c.timezone, a.starts_at, a.ends_at, a.status, a.reason, a.notes,
            a.cancelled_at, a.cancel_reason, a.created_at, a.updated_at, count(*) over () as total
       from appointment a
       join patient p on p.id = a.patient_id join "user" pu on pu.id = p.user_id
       join doctor d on d.id = a.doctor_id join "user" du on du.id = d.user_id
       join clinic c on c.id = a.clinic_id
      where ${where}
      order by a.starts_at ${page.order === 'asc' ? 'asc' : 'desc'}, a.id
      limit ? offset ?`,
    [...params, page.limit, page.offset],
  );
  let total = rows.length ? Number(rows[0]!.total) : 0;
  if (!rows.length && page.offset > 0) {
    const [c] = await query<{ n: string }>(em, `select count(*) as n from appointment a where ${where}`, params);
    total = Number(c!.n);
  }
  return { items: rows.map(appointmentView), total };
}

/**
 * Cancels booked appointments and frees their places, inside the caller's transaction. Slots are locked
 * first, in id order (the order every booking path uses), so this cannot deadlock with a booking or a
 * cancellation running at the same time; appointments already cancelled meanwhile are skipped, so nothing
 * is freed twice. Returns the ids cancelled.
 */
export async function cancelBookedAppointments(em: EntityManager, actor: Actor, appointmentIds: number[], reason: string): Promise<number[]> {
  if (!appointmentIds.length) return [];
  const slots = await query<{ slot_id: number }>(em, 'select distinct slot_id from appointment where id = any(?::int[])', [intArray(appointmentIds)]);
  await query(em, 'select id from slot where id = any(?::int[]) order by id for update', [intArray(slots.map((s) => s.slot_id))]);
  const cancelled = await query<{ id: number; slot_id: number }>(
    em,
    `update appointment set status = 'cancelled', cancelled_at = now(), cancel_reason = ?, updated_at = now()
      where id = any(?::int[]) and status = 'booked' returning id, slot_id`,
    [reason, intArray(appointmentIds)],
  );
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
    audit(em, actor, { action: 'appointment.cancel', entity: 'appointment', entityId: c.id, before: { status: 'booked' }, after: { status: 'cancelled', cancelReason: reason } });
  }
  return cancelled.map((c) => c.id);
}
