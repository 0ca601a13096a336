import { readContext } from '../db/replica.js';
import type { LockMode, EntityManager } from '@mikro-orm/postgresql';
import { Clinic, Doctor } from '../domain/entities/index.js';
import { ConflictError, DuplicateError, NotFoundError, ValidationError } from '../domain/errors.js';
import { requireRole } from '../domain/roles.js';
import { id as idSchema, type Page } from '../domain/schemas/common.js';
import {
  DEFAULT_REMINDERS,
  createClinicInput,
  listClinicsInput,
  updateClinicInput,
  type CreateClinicInput,
  type ListClinicsInput,
  type UpdateClinicInput,
} from '../domain/schemas/clinics.js';
import { parseInput, type Untrusted } from '../domain/validation.js';
import { didYouMean, suggestTimeZone } from '../domain/suggest.js';
import { clinicView, type ClinicView } from '../domain/views.js';
import { audit } from './audit.js';
import type { ServiceContext } from './context.js';
import { lockParentForChange, transaction } from './locks.js';
import { likePattern, query, refusedBy } from './support.js';

const clinicConstraints = {
  clinic_name_city_unique: () => new DuplicateError('a clinic of this name already exists in this city', 'name'),
};

/** A zone must be known to PostgreSQL too (it computes clinic days): some legacy names only ICU knows. */
async function assertZoneKnownToDatabase(em: EntityManager, timezone: string | undefined): Promise<void> {
  if (timezone === undefined) return;
  const [row] = await query<{ known: boolean }>(em, 'select exists (select 1 from pg_timezone_names where name = ?) as known', [timezone]);
  if (row?.known) return;
  const suggestion = suggestTimeZone(timezone);
  throw new ValidationError(
    `${timezone} is not a time zone the database knows; use its current name (e.g. America/Los_Angeles)${didYouMean(suggestion === timezone ? undefined : suggestion)}`,
    'timezone',
  );
}

/** A clinic; with PESSIMISTIC_READ (FOR SHARE), kept as read until commit (a doctor joining it). */
export async function findClinic(em: EntityManager, id: number, lockMode?: LockMode.PESSIMISTIC_READ): Promise<Clinic> {
  const clinic = await em.findOne(Clinic, { id: parseInput(idSchema, id) }, lockMode ? { lockMode } : {});
  if (!clinic) throw new NotFoundError('clinic', id);
  return clinic;
}

/**
 * A clinic to change: locked FOR NO KEY UPDATE (./locks.ts), so doctors, slots and bookings naming it are not
 * held up, while a doctor joining it (FOR SHARE) waits; then loaded afresh.
 */
async function clinicForChange(tx: EntityManager, id: number): Promise<Clinic> {
  const clinicId = parseInput(idSchema, id);
  const clinic = (await lockParentForChange(tx, 'clinic', clinicId)) ? await tx.findOne(Clinic, clinicId, { refresh: true }) : null;
  if (!clinic) throw new NotFoundError('clinic', id);
  return clinic;
}

export async function createClinic(ctx: ServiceContext, raw: CreateClinicInput | Untrusted): Promise<ClinicView> {
  requireRole(ctx.actor, ['admin'], 'creating clinics');
  const input = parseInput(createClinicInput, raw);
  await assertZoneKnownToDatabase(ctx.em, input.timezone);
  return refusedBy(
    () =>
      transaction(ctx, async (tx) => {
        const clinic = tx.em.create(Clinic, {
          ...input,
          address: input.address ?? null,
          state: input.state ?? null,
          zip: input.zip ?? null,
          phone: input.phone ?? null,
          email: input.email ?? null,
          isActive: true,
          reminders: DEFAULT_REMINDERS,
          createdAt: tx.clock.now(),
          updatedAt: tx.clock.now(),
        });
        await tx.em.flush();
        const view = clinicView(clinic);
        audit(tx, { action: 'clinic.create', entity: 'clinic', entityId: clinic.id, after: view });
        return view;
      }),
    clinicConstraints,
  );
}

/** Any signed-in user may browse clinics (patients choose where to book). */
export async function listClinics(ctx: ServiceContext, raw: ListClinicsInput | Untrusted): Promise<Page<ClinicView>> {
  const input = parseInput(listClinicsInput, raw);
  ctx = await readContext(ctx);
  const qb = ctx.em.createQueryBuilder(Clinic, 'c').select('*');
  if (!input.includeInactive) qb.andWhere({ isActive: true });
  if (input.city) qb.andWhere('lower(c.city) = lower(?)', [input.city]);
  if (input.search) {
    const p = likePattern(input.search);
    qb.andWhere('(c.name ilike ? or c.city ilike ? or c.address ilike ?)', [p, p, p]);
  }
  qb.orderBy({ name: 'asc', id: 'asc' }).limit(input.limit).offset(input.offset);
  const [clinics, total] = await qb.getResultAndCount();
  return { items: clinics.map(clinicView), total, limit: input.limit, offset: input.offset };
}

export async function getClinic(ctx: ServiceContext, id: number): Promise<ClinicView> {
  return clinicView(await findClinic(ctx.em, id));
}

export async function updateClinic(ctx: ServiceContext, id: number, raw: UpdateClinicInput | Untrusted): Promise<ClinicView> {
  requireRole(ctx.actor, ['admin'], 'updating clinics');
  const input = parseInput(updateClinicInput, raw);
  const changes = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  if (!Object.keys(changes).length) throw new ValidationError('nothing to update: give at least one field to change');
  await assertZoneKnownToDatabase(ctx.em, input.timezone);
  return refusedBy(
    () =>
      transaction(ctx, async (tx) => {
        const clinic = await clinicForChange(tx.em, id);
        const before = clinicView(clinic);
        tx.em.assign(clinic, changes);
        await tx.em.flush();
        // The clinic's booked appointments still ahead are reminded by the new leads from now on.
        if (input.reminders) await query(tx.em, 'select clinic_reminders_refresh(?, ?)', [clinic.id, tx.clock.now()]);
        const after = clinicView(clinic);
        audit(tx, { action: 'clinic.update', entity: 'clinic', entityId: clinic.id, before, after });
        return after;
      }),
    clinicConstraints,
  );
}

/**
 * Deactivates a clinic with no active doctors. The clinic row is locked, and doctor creation and a doctor's
 * move take a share lock on it, so no doctor can join while this decides.
 */
export async function deactivateClinic(ctx: ServiceContext, id: number): Promise<ClinicView> {
  requireRole(ctx.actor, ['admin'], 'deactivating clinics');
  return transaction(ctx, async (tx) => {
    const clinic = await clinicForChange(tx.em, id);
    if (!clinic.isActive) throw new ConflictError(`clinic ${clinic.id} is already deactivated`);
    const active = await tx.em.find(Doctor, { clinic, isActive: true }, { fields: ['id'], orderBy: { id: 'asc' } });
    if (active.length) {
      const ids = active.map((d) => d.id);
      throw new ConflictError(
        `clinic ${clinic.id} has ${ids.length} active doctor(s) (${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}); move them to another clinic or deactivate them first`,
      );
    }
    const before = clinicView(clinic);
    clinic.isActive = false;
    await tx.em.flush();
    const after = clinicView(clinic);
    audit(tx, { action: 'clinic.deactivate', entity: 'clinic', entityId: clinic.id, before, after });
    return after;
  });
}

/**
 * Undoes a deactivation: the clinic can be chosen again (doctors can join it, and its doctors be reactivated).
 * Its doctors stay deactivated until reactivated one by one: a clinic could only be deactivated without active
 * doctors, so none comes back by surprise.
 */
export async function reactivateClinic(ctx: ServiceContext, id: number): Promise<ClinicView> {
  requireRole(ctx.actor, ['admin'], 'reactivating clinics');
  return transaction(ctx, async (tx) => {
    const clinic = await clinicForChange(tx.em, id);
    if (clinic.isActive) throw new ConflictError(`clinic ${clinic.id} is active already`);
    const before = clinicView(clinic);
    clinic.isActive = true;
    await tx.em.flush();
    const after = clinicView(clinic);
    audit(tx, { action: 'clinic.reactivate', entity: 'clinic', entityId: clinic.id, before, after });
    return after;
  });
}
