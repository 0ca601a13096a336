// `ascend seed FILE`: fixtures for CI. Idempotent by natural keys (clinic name + city, user email, licence
// number, slot doctor + start): a second run creates nothing. The whole file is checked first and every
// error is reported with its path (`doctors[3].license: …`); then everything is written in one transaction.
// A seed file is read as hostile: FILE may name any file (`ascend seed /etc/shadow`), so no error quotes more
// of it than a short, escaped excerpt of a seed field's value, and parsing is bounded in time and memory.
//
// Reading and checking the file is ./seed-file.ts; writing what it holds is here.
import type { z } from 'zod';
import { DomainError, ValidationError, type FieldIssue } from '../domain/errors.js';
import { SYSTEM } from '../domain/roles.js';
import { createClinicInput } from '../domain/schemas/clinics.js';
import { createDoctorInput } from '../domain/schemas/doctors.js';
import { createUserInput } from '../domain/schemas/users.js';
import { fieldIssues, type Untrusted, unstorableText, untrusted } from '../domain/validation.js';
import { slotMinutes } from '../domain/durations.js';
import { clockText, parseClock, parseWeekdays } from '../domain/time.js';
import type { BulkResult } from '../domain/views.js';
import { sqlOf } from '../db/sql.js';
import { ensureSigningKey } from './auth.js';
import { createClinic } from './clinics.js';
import { actingAs, type ServiceContext } from './context.js';
import { createDoctor } from './doctors.js';
import { getHours, setHours } from './hours.js';
import { createPatient, inputsFor } from './patients.js';
import { generateSlots } from './slots.js';
import { query } from './support.js';
import { createUser } from './users.js';
import { transaction } from './locks.js';
import { defined } from '../domain/invariant.js';

import { capped, type clinicRef, seedFile, type SeedFile, withExcerpts } from './seed-file.js';

export { parseSeedFile, SEED_FILE_MAX_BYTES, seedFile, type SeedFile } from './seed-file.js';

export interface SeedResult extends BulkResult {
  createdBy: Record<string, number>;
}

const clinicKey = (name: string, city: string) => `${name.trim().toLowerCase()}|${city.trim().toLowerCase()}`;

function clinicRefKey(ref: z.infer<typeof clinicRef>): string {
  if (typeof ref !== 'string') return clinicKey(ref.name, ref.city);
  const at = ref.lastIndexOf(',');
  return at > 0 ? clinicKey(ref.slice(0, at), ref.slice(at + 1)) : clinicKey(ref, '');
}

/** Prefixes the issues of a schema check (or a service's refusal) with the entry's path. */
function issuesAt(path: string, err: unknown): FieldIssue[] {
  if (err instanceof ValidationError) return err.issues.map((i) => ({ field: i.field ? `${path}.${i.field}` : path, message: i.message }));
  if (err instanceof DomainError) return [{ field: err.field ? `${path}.${err.field}` : path, message: err.message }];
  throw err;
}

type SeedDoctor = z.output<typeof seedFile>['doctors'][number];

/** A seed file's doctor as the doctors service takes it. */
function doctorInput(d: SeedDoctor, password: string, clinicId: number) {
  return {
    email: d.email,
    name: d.name,
    password,
    clinicId,
    specialty: d.specialty,
    licenseNumber: d.license,
    ...(d.qualifications !== undefined ? { qualifications: d.qualifications } : {}),
    ...(d.experienceYears !== undefined ? { experienceYears: d.experienceYears } : {}),
    ...(d.maxPerDay !== undefined ? { maxPatientsPerDay: d.maxPerDay } : {}),
    ...(d.mobile !== undefined ? { mobile: d.mobile } : {}),
  };
}

/** Checks an entry with a domain schema; issues come back under the entry's path, with seed-file field names. */
function check(schema: z.ZodType, value: unknown, path: string, rename: Record<string, string> = {}): FieldIssue[] {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return [];
  // Own keys only: a field named `constructor` must not find Object's.
  return fieldIssues(result.error).map((i) => ({ field: `${path}.${Object.hasOwn(rename, i.field) ? rename[i.field] : i.field}`, message: i.message }));
}

/**
 * Seeds the database as the system. `defaultPassword` (from --password-stdin) serves every user the file
 * gives no password. Every error names its path and quotes at most a short excerpt of a value: the domain's
 * messages quote what they were given (`must be a time of day as HH:MM (got "…")`), and here that is a file.
 */
export async function seed(ctx: ServiceContext, raw: SeedFile | Untrusted, options: { defaultPassword?: string } = {}): Promise<SeedResult> {
  try {
    return await seedChecked(actingAs(ctx, SYSTEM), raw, options);
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError(capped(err.issues).map(withExcerpts(raw)));
    throw err;
  }
}

async function seedChecked(ctx: ServiceContext, raw: unknown, options: { defaultPassword?: string }): Promise<SeedResult> {
  const { em } = ctx;
  const unstorable = unstorableText(raw);
  if (unstorable.length) throw new ValidationError(unstorable);
  const parsed = seedFile.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new ValidationError(fieldIssues(parsed.error));
  const file = parsed.data;
  const issues: FieldIssue[] = [];
  const password = (given: string | undefined, path: string): string => {
    const value = given ?? options.defaultPassword;
    if (value) return value;
    issues.push({ field: `${path}.password`, message: 'is required (in the file, or one for all with --password-stdin)' });
    return 'Stand-in-password-1'; // reported once above; the rest of the entry is still checked
  };

  // What exists already, by natural key.
  const existingClinics = new Map(
    (await query<{ id: number; name: string; city: string }>(em, 'select id, name, city from clinic')).map((c) => [clinicKey(c.name, c.city), c.id]),
  );
  const users = new Map(
    (await query<{ id: number; email: string; role: string }>(em, 'select id, lower(email) as email, role from "user"')).map((u) => [u.email, u]),
  );
  const doctorsByLicense = new Map(
    (
      await query<{ id: number; license: string; email: string }>(
        em,
        'select d.id, upper(d.license_number) as license, lower(u.email) as email from doctor d join "user" u on u.id = d.user_id',
      )
    ).map((d) => [d.license, d]),
  );

  // Check every entry against the domain's rules, the file itself and the database.
  const fileClinics = new Map<string, number>();
  file.clinics.forEach((c, i) => {
    issues.push(...check(createClinicInput, c, `clinics[${i}]`));
    const key = clinicKey(String(c.name ?? ''), String(c.city ?? ''));
    if (fileClinics.has(key)) issues.push({ field: `clinics[${i}].name`, message: `repeats clinics[${fileClinics.get(key)}]` });
    fileClinics.set(key, i);
  });
  const emails = new Map<string, string>();
  const claimEmail = (email: string, path: string, role: string) => {
    const key = email.toLowerCase();
    if (emails.has(key)) issues.push({ field: `${path}.email`, message: `repeats ${emails.get(key)}` });
    emails.set(key, path);
    const existing = users.get(key);
    if (existing && existing.role !== role) issues.push({ field: `${path}.email`, message: `already used by ${existing.role} user ${existing.id}` });
    return Boolean(existing);
  };
  file.admins.forEach((a, i) => {
    if (!claimEmail(a.email, `admins[${i}]`, 'admin'))
      issues.push(...check(createUserInput, { ...a, role: 'admin', password: password(a.password, `admins[${i}]`) }, `admins[${i}]`));
  });
  const licenses = new Map<string, string>();
  file.doctors.forEach((d, i) => {
    const path = `doctors[${i}]`;
    const exists = claimEmail(d.email, path, 'doctor');
    const license = d.license.toUpperCase();
    if (licenses.has(license)) issues.push({ field: `${path}.license`, message: `repeats ${licenses.get(license)}` });
    licenses.set(license, path);
    const holder = doctorsByLicense.get(license);
    if (holder && holder.email !== d.email.toLowerCase())
      issues.push({ field: `${path}.license`, message: `already used by doctor ${holder.id} (${holder.email})` });
    if (!fileClinics.has(clinicRefKey(d.clinic)) && !existingClinics.has(clinicRefKey(d.clinic))) {
      issues.push({ field: `${path}.clinic`, message: 'names no clinic in this file or the database (give "Name, City" or { name, city })' });
    }
    if (!exists) {
      issues.push(
        ...check(
          createDoctorInput,
          doctorInput(d, password(d.password, path), 1), // the clinic is checked above, by name
          path,
          { licenseNumber: 'license', maxPatientsPerDay: 'maxPerDay' },
        ),
      );
    }
  });
  file.patients.forEach((p, i) => {
    const path = `patients[${i}]`;
    if (claimEmail(p.email, path, 'patient')) return;
    const { dob, ...rest } = p;
    issues.push(...check(inputsFor(ctx).createPatientInput, { ...rest, dateOfBirth: dob, password: password(p.password, path) }, path, { dateOfBirth: 'dob' }));
  });
  const doctorRef = (ref: string) => ref.toLowerCase();
  const knownDoctors = new Set([
    ...file.doctors.flatMap((d) => [d.email.toLowerCase(), d.license.toLowerCase()]),
    ...[...doctorsByLicense.values()].flatMap((d) => [d.email]),
  ]);
  for (const d of doctorsByLicense.keys()) knownDoctors.add(d.toLowerCase());
  file.slots.forEach((s, i) => {
    if (!knownDoctors.has(doctorRef(s.doctor)))
      issues.push({ field: `slots[${i}].doctor`, message: `names no doctor (by licence or email) in this file or the database` });
  });
  if (issues.length) throw new ValidationError(issues);

  // Write, in one transaction; a refusal still names the entry it came from.
  const createdBy = { clinics: 0, admins: 0, doctors: 0, patients: 0, hours: 0, slots: 0 };
  const skippedBy = { clinics: 0, admins: 0, doctors: 0, patients: 0, hours: 0, slots: 0 };
  const step = async <T>(path: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw new ValidationError(issuesAt(path, err));
    }
  };
  await transaction(ctx, async (tx) => {
    // A seeded database is ready to log in to, like an initialised one.
    await ensureSigningKey(sqlOf(tx.em));
    const clinicIds = new Map(existingClinics);
    for (const [i, c] of file.clinics.entries()) {
      const key = clinicKey(String(c.name), String(c.city));
      if (clinicIds.has(key)) {
        skippedBy.clinics++;
        continue;
      }
      const created = await step(`clinics[${i}]`, () => createClinic(tx, untrusted(c)));
      clinicIds.set(key, created.id);
      createdBy.clinics++;
    }
    for (const [i, a] of file.admins.entries()) {
      if (users.has(a.email.toLowerCase())) {
        skippedBy.admins++;
        continue;
      }
      await step(`admins[${i}]`, () =>
        createUser(tx, {
          email: a.email,
          name: a.name,
          password: defined(a.password ?? options.defaultPassword, `the password of admins[${i}]`),
          role: 'admin',
        }),
      );
      createdBy.admins++;
    }
    const doctorIds = new Map<string, number>();
    for (const d of doctorsByLicense.values()) doctorIds.set(d.email, d.id);
    for (const [license, d] of doctorsByLicense) doctorIds.set(license.toLowerCase(), d.id);
    for (const [i, d] of file.doctors.entries()) {
      const path = `doctors[${i}]`;
      let id = doctorIds.get(d.email.toLowerCase());
      if (id) skippedBy.doctors++;
      else {
        const created = await step(path, () =>
          createDoctor(
            tx,
            doctorInput(
              d,
              defined(d.password ?? options.defaultPassword, `the password of doctors[${i}]`),
              defined(clinicIds.get(clinicRefKey(d.clinic)), `the clinic of doctors[${i}]`),
            ),
          ),
        );
        id = created.id;
        createdBy.doctors++;
      }
      doctorIds.set(d.email.toLowerCase(), id);
      doctorIds.set(d.license.toLowerCase(), id);
      for (const [k, h] of d.hours.entries()) {
        const doctorId = id;
        const changed = await step(`${path}.hours[${k}]`, async () => {
          // Only write when the stored windows of those days differ: a second run must change nothing.
          const days = parseWeekdays(h.days, 'days');
          const want = {
            start: clockText(parseClock(h.start, 'start')),
            end: clockText(parseClock(h.end, 'end')),
            slotMinutes: slotMinutes(h.length, 'length'),
            capacity: h.capacity ?? 1,
          };
          const have = (await getHours(tx, doctorId)).windows.filter((w) => days.includes(w.weekday));
          const same =
            have.length === days.length &&
            have.every((w) => w.start === want.start && w.end === want.end && w.slotMinutes === want.slotMinutes && w.capacity === want.capacity);
          if (same) return false;
          await setHours(tx, doctorId, { days: h.days, windows: [{ start: h.start, end: h.end }], length: h.length, capacity: want.capacity });
          return true;
        });
        if (changed) createdBy.hours++;
        else skippedBy.hours++;
      }
    }
    for (const [i, p] of file.patients.entries()) {
      if (users.has(p.email.toLowerCase())) {
        skippedBy.patients++;
        continue;
      }
      const { dob, password: given, ...rest } = p;
      await step(`patients[${i}]`, () => createPatient(tx, untrusted({ ...rest, dateOfBirth: dob, password: given ?? options.defaultPassword })));
      createdBy.patients++;
    }
    for (const [i, s] of file.slots.entries()) {
      const doctorId = defined(doctorIds.get(doctorRef(s.doctor)), `the doctor of slots[${i}]`);
      const { doctor: _doctor, ...schedule } = s;
      const result = await step(`slots[${i}]`, () => generateSlots(tx, { ...schedule, doctorIds: [doctorId] }));
      createdBy.slots += result.created;
      skippedBy.slots += result.skipped;
    }
  });
  const created = Object.values(createdBy).reduce((a, b) => a + b, 0);
  const skipped = Object.values(skippedBy).reduce((a, b) => a + b, 0);
  return { created, skipped, skippedBy, createdBy };
}
