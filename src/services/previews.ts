// What a destructive action would do, read before it is asked about: the records it touches and the numbers
// it changes, so that the question a terminal asks ("… It has 2 bookings: they will be cancelled.") is true.
// Read-only, no locks: the action itself decides again, under its locks, and refuses what no longer holds.
// Each preview checks what its action checks first, so that nobody is asked about what they may not do.
import { requireRole } from '../domain/roles.js';
import { id as idSchema } from '../domain/schemas/common.js';
import { parseInput } from '../domain/validation.js';
import type { ClinicView, DoctorView, SlotView, UserRecordsView } from '../domain/views.js';
import { getClinic } from './clinics.js';
import type { ServiceContext } from './context.js';
import { assertMayManageDoctor, getDoctor } from './doctors.js';
import { getSlot } from './slots.js';
import { query } from './support.js';
import { getUser } from './users.js';

const count = async (ctx: ServiceContext, sql: string, params: unknown[]): Promise<number> =>
  Number((await query<{ n: string | number }>(ctx.em, `select count(*) as n ${sql}`, params))[0]?.n ?? 0);

export interface SlotDeletion {
  slot: SlotView;
  /** Its booked appointments: refused, or cancelled with cancelBookings. */
  bookings: number;
}

export async function previewDeleteSlot(ctx: ServiceContext, id: number): Promise<SlotDeletion> {
  const slot = await getSlot(ctx, parseInput(idSchema, id));
  await assertMayManageDoctor(ctx, slot.doctorId, 'deleting slots');
  const bookings = await count(ctx, `from appointment where slot_id = ? and status = 'booked'`, [slot.id]);
  return { slot, bookings };
}

export interface UserDeactivation {
  user: UserRecordsView;
  /** A patient user's booked appointments still to come: deactivation leaves them booked. */
  futureBookings: number;
}

export async function previewDeactivateUser(ctx: ServiceContext, ref: number | string): Promise<UserDeactivation> {
  requireRole(ctx.actor, ['admin'], 'deactivating users');
  const user = await getUser(ctx, ref);
  const futureBookings = user.patientId
    ? await count(ctx, `from appointment where patient_id = ? and status = 'booked' and starts_at > ?`, [user.patientId, ctx.clock.now()])
    : 0;
  return { user, futureBookings };
}

export interface ClinicDeactivation {
  clinic: ClinicView;
  /** Active doctors in it: while there are any, deactivation is refused. */
  activeDoctors: number;
}

export async function previewDeactivateClinic(ctx: ServiceContext, id: number): Promise<ClinicDeactivation> {
  requireRole(ctx.actor, ['admin'], 'deactivating clinics');
  const clinic = await getClinic(ctx, id);
  return { clinic, activeDoctors: await count(ctx, 'from doctor where clinic_id = ? and is_active', [clinic.id]) };
}

export interface DoctorDeactivation {
  doctor: DoctorView;
  /** Their active slots still to come: they close. */
  futureSlots: number;
  /** Their booked appointments still to come: refused, or cancelled with cancelBookings. */
  futureBookings: number;
}

export async function previewDeactivateDoctor(ctx: ServiceContext, id: number): Promise<DoctorDeactivation> {
  requireRole(ctx.actor, ['admin'], 'deactivating doctors');
  const doctor = await getDoctor(ctx, id);
  const now = ctx.clock.now();
  // The same bounds as deactivateDoctor's: the slots it closes, the bookings it refuses or cancels.
  const futureSlots = await count(ctx, 'from slot where doctor_id = ? and is_active and starts_at > ?', [doctor.id, now]);
  const futureBookings = await count(ctx, `from appointment where doctor_id = ? and status = 'booked' and starts_at > ?`, [doctor.id, now]);
  return { doctor, futureSlots, futureBookings };
}
