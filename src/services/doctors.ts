import { readContext } from '../db/replica.js';
import { LockMode, type EntityManager } from '@mikro-orm/postgresql';
import { Doctor, DoctorLeave } from '../domain/entities/index.js';
import { AuthError, ConflictError, DuplicateError, ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.js';
import { isAdmin, requireRole } from '../domain/roles.js';
import { id as idSchema, pagination, type Page } from '../domain/schemas/common.js';
import {
  addLeaveInput,
  createDoctorInput,
  deactivateDoctorInput,
  listDoctorsInput,
  updateDoctorInput,
  type AddLeaveInput,
  type CreateDoctorInput,
  type DeactivateDoctorInput,
  type ListDoctorsInput,
  type UpdateDoctorInput,
} from '../domain/schemas/doctors.js';
import { parseDateInput } from '../domain/time.js';
import { formatLocalPeriod } from '../domain/time-format.js';
import { parseInput, type Untrusted } from '../domain/validation.js';
import { doctorView, leaveView, type DoctorView, type LeaveRow, type LeaveView } from '../domain/views.js';
import { z } from 'zod';
import { audit } from './audit.js';
import { appointmentsOf, releasePlaces } from './booking/release.js';
import { findClinic } from './clinics.js';
import type { ServiceContext } from './context.js';
import { lockParentForChange, lockSlotsOfDoctor, transaction } from './locks.js';
import { doctorIdOf, likePattern, pageOfRows, query, refusedBy } from './support.js';
import { buildUser, userConstraints } from './users.js';

const doctorConstraints = {
  ...userConstraints,
  doctor_license_unique: () => new DuplicateError('is already used by another doctor', 'licenseNumber'),
  doctor_leave_no_overlap: () => new ConflictError('overlaps another leave of this doctor', 'from'),
};

export async function findDoctor(em: EntityManager, id: number): Promise<Doctor> {
  const doctor = await em.findOne(Doctor, { id: parseInput(idSchema, id) }, { populate: ['user', 'clinic'] });
  if (!doctor) throw new NotFoundError('doctor', id);
  return doctor;
}

/**
 * A doctor to change, locked first (step 1 of the lock order in ./locks.ts) FOR NO KEY UPDATE, then loaded
 * afresh: bookings into their slots are not held up by the lock, and their slots are locked after it.
 */
async function doctorForChange(tx: EntityManager, id: number): Promise<Doctor> {
  const doctorId = parseInput(idSchema, id);
  const doctor = (await lockParentForChange(tx, 'doctor', doctorId))
    ? await tx.findOne(Doctor, doctorId, { populate: ['user', 'clinic'], refresh: true })
    : null;
  if (!doctor) throw new NotFoundError('doctor', id);
  return doctor;
}

async function assertLicenseFree(em: EntityManager, license: string, exceptId?: number): Promise<void> {
  const [clash] = await query<{ id: number }>(em, 'select id from doctor where upper(license_number) = upper(?) limit 1', [license]);
  if (clash && clash.id !== exceptId) throw new DuplicateError(`${license} is already used by doctor ${clash.id}`, 'licenseNumber');
}

/** An active clinic to put a doctor in, share-locked so it cannot be deactivated until this commits. */
async function clinicForDoctor(em: EntityManager, clinicId: number) {
  const clinic = await findClinic(em, clinicId, LockMode.PESSIMISTIC_READ).catch((err) => {
    throw err instanceof NotFoundError ? new NotFoundError('clinic', clinicId, 'clinicId') : err;
  });
  if (!clinic.isActive) throw new ConflictError(`clinic ${clinic.id} is deactivated`, 'clinicId');
  return clinic;
}

/** Creates the doctor's user and profile in one transaction: a refusal of either leaves nothing behind. */
export async function createDoctor(ctx: ServiceContext, raw: CreateDoctorInput | Untrusted): Promise<DoctorView> {
  requireRole(ctx.actor, ['admin'], 'creating doctors');
  const input = parseInput(createDoctorInput, raw);
  return refusedBy(
    () =>
      transaction(ctx, async (tx) => {
        const clinic = await clinicForDoctor(tx.em, input.clinicId);
        await assertLicenseFree(tx.em, input.licenseNumber);
        const user = await buildUser(tx, { email: input.email, name: input.name, password: input.password, role: 'doctor', mobile: input.mobile });
        const doctor = tx.em.create(Doctor, {
          user,
          clinic,
          specialty: input.specialty,
          licenseNumber: input.licenseNumber,
          qualifications: input.qualifications ?? null,
          experienceYears: input.experienceYears,
          maxPatientsPerDay: input.maxPatientsPerDay,
          isActive: true,
          createdAt: tx.clock.now(),
          updatedAt: tx.clock.now(),
        });
        await tx.em.flush();
        const view = doctorView(doctor);
        audit(tx, { action: 'doctor.create', entity: 'doctor', entityId: doctor.id, after: view });
        return view;
      }),
    doctorConstraints,
  );
}

/** Any signed-in user may browse doctors. Filters run in SQL, on indexed columns where they are common. */
export async function listDoctors(ctx: ServiceContext, raw: ListDoctorsInput | Untrusted): Promise<Page<DoctorView>> {
  const input = parseInput(listDoctorsInput, raw);
  ctx = await readContext(ctx);
  const qb = ctx.em.createQueryBuilder(Doctor, 'd').select('*').joinAndSelect('d.user', 'u').joinAndSelect('d.clinic', 'c');
  if (!input.includeInactive) qb.andWhere({ isActive: true });
  if (input.clinicId) qb.andWhere({ clinic: input.clinicId });
  if (input.specialty) qb.andWhere('lower(d.specialty) = lower(?)', [input.specialty]);
  if (input.city) qb.andWhere('lower(c.city) = lower(?)', [input.city]);
  if (input.search) {
    const p = likePattern(input.search);
    // The public directory's anonymous callers see no email or licence number, so they cannot search by them either.
    if (ctx.actor.kind === 'anonymous') qb.andWhere('(u.name ilike ? or d.specialty ilike ?)', [p, p]);
    else qb.andWhere('(u.name ilike ? or u.email ilike ? or d.license_number ilike ? or d.specialty ilike ?)', [p, p, p, p]);
  }
  qb.orderBy({ id: 'asc' }).limit(input.limit).offset(input.offset);
  const [doctors, total] = await qb.getResultAndCount();
  return { items: doctors.map(doctorView), total, limit: input.limit, offset: input.offset };
}

export async function getDoctor(ctx: ServiceContext, id: number): Promise<DoctorView> {
  return doctorView(await findDoctor(ctx.em, id));
}

export async function updateDoctor(ctx: ServiceContext, id: number, raw: UpdateDoctorInput | Untrusted): Promise<DoctorView> {
  requireRole(ctx.actor, ['admin'], 'updating doctors');
  const input = parseInput(updateDoctorInput, raw);
  const { name, mobile, clinicId, ...profile } = input;
  const changes = Object.fromEntries(Object.entries(profile).filter(([, v]) => v !== undefined));
  if (name === undefined && mobile === undefined && clinicId === undefined && !Object.keys(changes).length) {
    throw new ValidationError('nothing to update: give at least one field to change');
  }
  return refusedBy(
    () =>
      transaction(ctx, async (tx) => {
        const doctor = await doctorForChange(tx.em, id);
        const before = doctorView(doctor);
        if (input.licenseNumber) await assertLicenseFree(tx.em, input.licenseNumber, doctor.id);
        if (clinicId !== undefined && clinicId !== doctor.clinic.id) {
          doctor.clinic = await clinicForDoctor(tx.em, clinicId);
          await moveFutureSlots(tx, doctor.id, clinicId);
        }
        // The record shows its user's name and mobile: changing only those changes the record too.
        if ((name !== undefined && name !== doctor.user.name) || (mobile !== undefined && mobile !== doctor.user.mobile)) doctor.updatedAt = tx.clock.now();
        if (name !== undefined) doctor.user.name = name;
        if (mobile !== undefined) doctor.user.mobile = mobile;
        tx.em.assign(doctor, changes);
        await tx.em.flush();
        const after = doctorView(doctor);
        audit(tx, { action: 'doctor.update', entity: 'doctor', entityId: doctor.id, before, after });
        return after;
      }),
    doctorConstraints,
  );
}

/**
 * Deactivates a doctor: their future slots close and their user can no longer log in. Refused while they have
 * future booked appointments, unless `cancelBookings`, which cancels those in the same transaction.
 */
export async function deactivateDoctor(
  ctx: ServiceContext,
  id: number,
  raw: DeactivateDoctorInput | Untrusted = {},
): Promise<DoctorView & { cancelledAppointmentIds: number[] }> {
  requireRole(ctx.actor, ['admin'], 'deactivating doctors');
  const input = parseInput(deactivateDoctorInput, raw);
  return transaction(ctx, async (tx) => {
    const now = tx.clock.now();
    const doctor = await doctorForChange(tx.em, id);
    if (!doctor.isActive) throw new ConflictError(`doctor ${doctor.id} is already deactivated`);
    const before = doctorView(doctor);
    // Lock the future slots (after the doctor, in id order: ./locks.ts) so no booking slips in while we decide.
    await lockSlotsOfDoctor(tx.em, doctor.id, 'is_active and ends_at > ?', [now]);
    const booked = await query<{ id: number }>(
      tx.em,
      `select id from appointment where doctor_id = ? and status = 'booked' and starts_at > ? order by starts_at, id`,
      [doctor.id, now],
    );
    let cancelled: number[] = [];
    if (booked.length) {
      if (!input.cancelBookings)
        throw bookingsInTheWay(
          `doctor ${doctor.id} has`,
          booked.map((b) => b.id),
        );
      cancelled = appointmentsOf(await releasePlaces(tx, { cause: 'doctor-deactivated', appointmentIds: booked.map((b) => b.id) }));
    }
    await query(tx.em, 'update slot set is_active = false, updated_at = ? where doctor_id = ? and is_active and starts_at > ?', [now, doctor.id, now]);
    doctor.isActive = false;
    doctor.user.isActive = false;
    doctor.user.tokenVersion += 1;
    await tx.em.flush();
    const after = doctorView(doctor);
    audit(tx, { action: 'doctor.deactivate', entity: 'doctor', entityId: doctor.id, before, after: { ...after, cancelledAppointmentIds: cancelled } });
    return { ...after, cancelledAppointmentIds: cancelled };
  });
}

/**
 * Undoes a deactivation: the doctor and their login are active again, in the clinic they were in. What the
 * deactivation did to their schedule stays done: their closed slots stay closed and cancelled appointments
 * stay cancelled (patients were told; new slots are made with slots create or generate). Their old tokens and
 * sessions stay revoked. Refused while their clinic is deactivated (reactivate the clinic first): the clinic
 * is held FOR SHARE (after the doctor, ./locks.ts), so it cannot be deactivated while this decides.
 */
export async function reactivateDoctor(ctx: ServiceContext, id: number): Promise<DoctorView> {
  requireRole(ctx.actor, ['admin'], 'reactivating doctors');
  return transaction(ctx, async (tx) => {
    const doctor = await doctorForChange(tx.em, id);
    if (doctor.isActive && doctor.user.isActive) throw new ConflictError(`doctor ${doctor.id} is active already`);
    // Read under the lock, not from the unit of work (which loaded the clinic before it was held).
    const [clinic] = await query<{ id: number; name: string; city: string; is_active: boolean }>(
      tx.em,
      'select id, name, city, is_active from clinic where id = ? for share',
      [doctor.clinic.id],
    );
    if (!clinic?.is_active) {
      const which = clinic ? `clinic ${clinic.id} (${clinic.name}, ${clinic.city})` : `clinic ${doctor.clinic.id}`;
      throw new ConflictError(
        `doctor ${doctor.id} works in ${which}, which is deactivated: reactivate the clinic first (ascend clinics reactivate ${doctor.clinic.id})`,
      );
    }
    const before = doctorView(doctor);
    doctor.isActive = true;
    doctor.user.isActive = true;
    await tx.em.flush();
    const after = doctorView(doctor);
    audit(tx, { action: 'doctor.reactivate', entity: 'doctor', entityId: doctor.id, before, after });
    return after;
  });
}

/**
 * A doctor who moves takes their future schedule along: their future slots move to the new clinic. Booked
 * appointments are not moved behind patients' backs: the move is refused until they are cancelled or moved.
 */
async function moveFutureSlots(tx: ServiceContext, doctorId: number, clinicId: number): Promise<void> {
  const now = tx.clock.now();
  await lockSlotsOfDoctor(tx.em, doctorId, 'is_active and starts_at > ?', [now]);
  const booked = await query<{ id: number }>(
    tx.em,
    `select id from appointment where doctor_id = ? and status = 'booked' and starts_at > ? order by starts_at, id`,
    [doctorId, now],
  );
  if (booked.length) {
    const list =
      booked
        .slice(0, 10)
        .map((b) => b.id)
        .join(', ') + (booked.length > 10 ? ', …' : '');
    throw new ConflictError(
      `doctor ${doctorId} has ${booked.length} future booked appointment(s) (${list}) at their current clinic; cancel or reschedule them first`,
      'clinicId',
    );
  }
  await query(tx.em, 'update slot set clinic_id = ?, updated_at = ? where doctor_id = ? and is_active and starts_at > ?', [clinicId, now, doctorId, now]);
}

function bookingsInTheWay(subject: string, ids: number[]): ConflictError {
  const list = ids.slice(0, 10).join(', ') + (ids.length > 10 ? ', …' : '');
  return new ConflictError(
    `${subject} ${ids.length} booked appointment(s) in the way (${list}); cancel them with this option, or move them first`,
    'cancelBookings',
  );
}

// ---------------------------------------------------------------------------------------------------------
// Leave

/** Admins act on any doctor's schedule (slots, hours, leave); a doctor on their own. */
export async function assertMayManageDoctor(ctx: ServiceContext, doctorId: number, what: string): Promise<void> {
  const { actor } = ctx;
  if (isAdmin(actor)) return;
  if (actor.kind === 'user' && actor.role === 'doctor' && (await doctorIdOf(ctx)) === doctorId) return;
  if (actor.kind !== 'user') throw new AuthError('not logged in');
  throw new ForbiddenError(`${what} for doctor ${doctorId} needs the admin role, or to be that doctor`);
}

/**
 * Adds leave, read in the clinic's zone: `from`/`to` as whole local days (`to` included) or local times.
 * Booked appointments inside it are refused, or cancelled with `cancelBookings` in the same transaction.
 */
export async function addLeave(
  ctx: ServiceContext,
  doctorId: number,
  raw: AddLeaveInput | Untrusted,
): Promise<LeaveView & { cancelledAppointmentIds: number[] }> {
  const input = parseInput(addLeaveInput, raw);
  const doctor = await findDoctor(ctx.em, doctorId);
  await assertMayManageDoctor(ctx, doctor.id, 'managing leave');
  const tz = doctor.clinic.timezone;
  const at = { timeZone: tz, now: ctx.clock.now() };
  const from = parseDateInput(input.from, at, 'from').instant;
  const to = parseDateInput(input.to, at, 'to', { endOfDay: true }).instant;
  if (to <= from) throw new ValidationError('must be after from (a whole day of to is included)', 'to');
  return refusedBy(
    () =>
      transaction(ctx, async (tx) => {
        // Serialise with bookings: they lock the slot, then look for leave; we lock the slots (in id order:
        // ./locks.ts), then add it.
        await lockSlotsOfDoctor(tx.em, doctor.id, 'tstzrange(starts_at, ends_at) && tstzrange(?::timestamptz, ?::timestamptz)', [from, to]);
        const [clash] = await query<LeaveRow>(
          tx.em,
          'select * from doctor_leave where doctor_id = ? and tstzrange(starts_at, ends_at) && tstzrange(?::timestamptz, ?::timestamptz) limit 1',
          [doctor.id, from, to],
        );
        if (clash) throw new ConflictError(`overlaps leave ${clash.id} (${formatLocalPeriod(clash.starts_at, clash.ends_at, tz)})`, 'from');
        const booked = await query<{ id: number }>(
          tx.em,
          `select id from appointment where doctor_id = ? and status = 'booked' and tstzrange(starts_at, ends_at) && tstzrange(?::timestamptz, ?::timestamptz) order by starts_at, id`,
          [doctor.id, from, to],
        );
        let cancelled: number[] = [];
        if (booked.length) {
          if (!input.cancelBookings)
            throw bookingsInTheWay(
              'the leave has',
              booked.map((b) => b.id),
            );
          cancelled = appointmentsOf(await releasePlaces(tx, { cause: 'doctor-on-leave', appointmentIds: booked.map((b) => b.id) }));
        }
        const leave = tx.em.create(DoctorLeave, {
          doctor,
          startsAt: from,
          endsAt: to,
          reason: input.reason ?? null,
          createdAt: tx.clock.now(),
          updatedAt: tx.clock.now(),
        });
        await tx.em.flush();
        const view = leaveView(
          { id: leave.id, doctor_id: doctor.id, starts_at: from, ends_at: to, reason: leave.reason ?? null, created_at: leave.createdAt },
          tz,
        );
        audit(tx, { action: 'leave.add', entity: 'doctor_leave', entityId: leave.id, after: { ...view, cancelledAppointmentIds: cancelled } });
        return { ...view, cancelledAppointmentIds: cancelled };
      }),
    doctorConstraints,
  );
}

const leavePage = z.strictObject({ ...pagination, includePast: z.boolean().default(false) });

/** A doctor's leave, soonest first; past leave only with `includePast`. Any signed-in user may look. */
export async function listLeave(ctx: ServiceContext, doctorId: number, raw: z.input<typeof leavePage> | Untrusted = {}): Promise<Page<LeaveView>> {
  const page = parseInput(leavePage, raw);
  const doctor = await findDoctor(ctx.em, doctorId);
  const past = page.includePast ? '' : 'and ends_at > ?';
  const { rows, total } = await pageOfRows<LeaveRow & { total: string }>(
    ctx.em,
    `select *, count(*) over () as total from doctor_leave where doctor_id = ? ${past} order by starts_at`,
    page.includePast ? [doctor.id] : [doctor.id, ctx.clock.now()],
    page.limit,
    page.offset,
  );
  return { items: rows.map((r) => leaveView(r, doctor.clinic.timezone)), total, limit: page.limit, offset: page.offset };
}

export async function removeLeave(ctx: ServiceContext, leaveId: number, doctorId?: number): Promise<LeaveView> {
  const id = parseInput(idSchema, leaveId);
  return transaction(ctx, async (tx) => {
    const [row] = await query<LeaveRow & { timezone: string }>(
      tx.em,
      'select l.*, c.timezone from doctor_leave l join doctor d on d.id = l.doctor_id join clinic c on c.id = d.clinic_id where l.id = ? for update of l',
      [id],
    );
    if (!row || (doctorId !== undefined && row.doctor_id !== doctorId)) throw new NotFoundError('leave', id);
    await assertMayManageDoctor(tx, row.doctor_id, 'managing leave');
    await query(tx.em, 'delete from doctor_leave where id = ?', [id]);
    const view = leaveView(row, row.timezone);
    audit(tx, { action: 'leave.remove', entity: 'doctor_leave', entityId: id, before: view });
    return view;
  });
}

/** What the booking flow offers to choose from: specialties of active doctors, and where they practise. */
export async function bookingChoices({ em }: ServiceContext, specialty?: string): Promise<{ specialties: string[]; cities: string[] }> {
  // Specialties are kept as typed and compared without case: one choice per specialty, in its commonest spelling.
  const specialties = await query<{ specialty: string }>(
    em,
    'select mode() within group (order by d.specialty) as specialty from doctor d join clinic c on c.id = d.clinic_id where d.is_active and c.is_active group by lower(d.specialty) order by lower(d.specialty)',
  );
  const cities = await query<{ city: string }>(
    em,
    'select distinct c.city from doctor d join clinic c on c.id = d.clinic_id where d.is_active and c.is_active and (?::text is null or lower(d.specialty) = lower(?)) order by 1',
    [specialty ?? null, specialty ?? null],
  );
  return { specialties: specialties.map((s) => s.specialty), cities: cities.map((c) => c.city) };
}
