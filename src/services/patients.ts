import { readContext } from '../db/replica.js';
import type { z } from 'zod';
import { Patient } from '../domain/entities/index.js';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { isAdmin, requireRole, SYSTEM } from '../domain/roles.js';
import { id as idSchema, type Page } from '../domain/schemas/common.js';
import {
  historyInput,
  listPatientsInput,
  patientInputsOn,
  type CreatePatientInput,
  type HistoryInput,
  type ListPatientsInput,
  type RegisterInput,
  type UpdatePatientInput,
} from '../domain/schemas/patients.js';
import { localDateString } from '../domain/time.js';
import { parseInput, type Untrusted } from '../domain/validation.js';
import { patientView, type AppointmentView, type PatientView } from '../domain/views.js';
import { findAppointments } from './appointments.js';
import { audit } from './audit.js';
import { actingAs, type ServiceContext } from './context.js';
import { doctorIdOf, likePattern, patientIdOf, refusedBy } from './support.js';
import { buildPatientRecord, buildUser, userConstraints, type EmailCheck } from './users.js';
import { lockParentForChange, transaction } from './locks.js';

/**
 * Which patients the actor may see: admins all; a patient themself; a doctor those with an appointment with
 * them. Returned as a SQL condition on `p` (patient). Records outside it are "not found", so that ids
 * cannot be probed.
 */
export async function visiblePatients(ctx: ServiceContext): Promise<{ sql: string; params: unknown[] }> {
  if (isAdmin(ctx.actor)) return { sql: 'true', params: [] };
  const patientId = await patientIdOf(ctx);
  if (patientId) return { sql: 'p.id = ?', params: [patientId] };
  const doctorId = await doctorIdOf(ctx);
  if (doctorId) return { sql: 'exists (select 1 from appointment a where a.patient_id = p.id and a.doctor_id = ?)', params: [doctorId] };
  return { sql: 'false', params: [] };
}

async function findVisiblePatient(ctx: ServiceContext, id: number): Promise<Patient> {
  const patientId = parseInput(idSchema, id);
  const visible = await visiblePatients(ctx);
  const qb = ctx.em.createQueryBuilder(Patient, 'p').select('*').joinAndSelect('p.user', 'u').where({ id: patientId }).andWhere(visible.sql, visible.params);
  const patient = await qb.getSingleResult();
  if (!patient) throw new NotFoundError('patient', id);
  return patient;
}

/** Creates the patient's user and profile in one transaction. */
export async function createPatient(ctx: ServiceContext, raw: CreatePatientInput | Untrusted): Promise<PatientView> {
  requireRole(ctx.actor, ['admin'], 'creating patients');
  return insertPatient(ctx, parseInput(inputsFor(ctx).createPatientInput, raw));
}

/**
 * Anyone may register as a patient (the API's `POST /auth/register`); they act as themselves from then on.
 * Nobody is signed in (the record is written, and audited, by the system), so a refusal names no other
 * user's id.
 */
export async function registerPatient(ctx: ServiceContext, raw: RegisterInput | Untrusted): Promise<PatientView> {
  return insertPatient(actingAs(ctx, SYSTEM), parseInput(inputsFor(ctx).registerInput, raw), { anonymous: true });
}

/** The patient schemas as of the context's today: a date of birth must be before it. */
export const inputsFor = (ctx: ServiceContext) => patientInputsOn(localDateString(ctx.clock.now(), 'UTC'));

async function insertPatient(
  ctx: ServiceContext,
  input: z.output<ReturnType<typeof inputsFor>['registerInput']>,
  check: Pick<EmailCheck, 'anonymous'> = {},
): Promise<PatientView> {
  return refusedBy(
    () =>
      transaction(ctx, async (tx) => {
        const user = await buildUser(
          tx,
          { email: input.email, name: input.name, password: input.password, role: 'patient', mobile: input.mobile, address: input.address },
          check,
        );
        const patient = buildPatientRecord(tx, user, input);
        await tx.em.flush();
        const view = patientView(patient);
        audit(tx, { action: 'patient.create', entity: 'patient', entityId: patient.id, after: view });
        return view;
      }),
    userConstraints,
  );
}

export async function listPatients(ctx: ServiceContext, raw: ListPatientsInput | Untrusted): Promise<Page<PatientView>> {
  const input = parseInput(listPatientsInput, raw);
  ctx = await readContext(ctx);
  const visible = await visiblePatients(ctx);
  const qb = ctx.em.createQueryBuilder(Patient, 'p').select('*').joinAndSelect('p.user', 'u').where(visible.sql, visible.params);
  if (!input.includeInactive) qb.andWhere('p.is_active and u.is_active');
  if (input.search) {
    const p = likePattern(input.search);
    qb.andWhere('(u.name ilike ? or u.email ilike ?)', [p, p]);
  }
  qb.orderBy({ id: 'asc' }).limit(input.limit).offset(input.offset);
  const [patients, total] = await qb.getResultAndCount();
  return { items: patients.map(patientView), total, limit: input.limit, offset: input.offset };
}

export async function getPatient(ctx: ServiceContext, id: number): Promise<PatientView> {
  return patientView(await findVisiblePatient(ctx, id));
}

/** Admins update any patient; a patient their own record (doctors read, never write). */
export async function updatePatient(ctx: ServiceContext, id: number, raw: UpdatePatientInput | Untrusted): Promise<PatientView> {
  if (!isAdmin(ctx.actor)) requireRole(ctx.actor, ['admin', 'patient'], 'updating patients');
  const input = parseInput(inputsFor(ctx).updatePatientInput, raw);
  const { name, mobile, address, ...profile } = input;
  const changes = Object.fromEntries(Object.entries(profile).filter(([, v]) => v !== undefined));
  if (name === undefined && mobile === undefined && address === undefined && !Object.keys(changes).length) {
    throw new ValidationError('nothing to update: give at least one field to change');
  }
  return refusedBy(
    () =>
      transaction(ctx, async (tx) => {
        // FOR NO KEY UPDATE, not FOR UPDATE: the patient's bookings go on meanwhile (./locks.ts).
        await lockParentForChange(tx.em, 'patient', parseInput(idSchema, id));
        const patient = await findVisiblePatient(tx, id);
        const before = patientView(patient);
        const user = patient.user;
        // The record shows its user's name, mobile and address: changing only those changes the record too.
        if (
          (name !== undefined && name !== user.name) ||
          (mobile !== undefined && mobile !== user.mobile) ||
          (address !== undefined && address !== user.address)
        ) {
          patient.updatedAt = tx.clock.now();
        }
        if (name !== undefined) user.name = name;
        if (mobile !== undefined) user.mobile = mobile;
        if (address !== undefined) user.address = address;
        tx.em.assign(patient, changes);
        await tx.em.flush();
        const after = patientView(patient);
        audit(tx, { action: 'patient.update', entity: 'patient', entityId: patient.id, before, after });
        return after;
      }),
    userConstraints,
  );
}

/**
 * A patient's appointments, newest first. A doctor sees only the appointments with them; the patient and
 * admins see all.
 */
export async function patientHistory(ctx: ServiceContext, id: number, raw: HistoryInput | Untrusted = {}): Promise<Page<AppointmentView>> {
  const page = parseInput(historyInput, raw);
  ctx = await readContext(ctx);
  const patient = await findVisiblePatient(ctx, id);
  const doctorId = await doctorIdOf(ctx);
  const where = doctorId ? 'a.patient_id = ? and a.doctor_id = ?' : 'a.patient_id = ?';
  const params = doctorId ? [patient.id, doctorId] : [patient.id];
  const result = await findAppointments(ctx.em, where, params, { ...page, order: 'desc' });
  return { ...result, limit: page.limit, offset: page.offset };
}
