import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuplicateError, ForbiddenError, ValidationError } from '../../src/domain/errors.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { createClinic, getClinic, listClinics, updateClinic } from '../../src/services/clinics.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makePatient } from '../support/fixtures.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

describe('clinics', () => {
  it('a name is unique within a city, compared without case; the database settles races', async () => {
    await createClinic(db.ctx(SYSTEM), { name: 'Lake View', city: 'Udaipur', timezone: 'Asia/Kolkata' });
    const err = await createClinic(db.ctx(SYSTEM), { name: 'LAKE VIEW', city: 'udaipur', timezone: 'Asia/Kolkata' }).catch((e) => e);
    expect(err).toBeInstanceOf(DuplicateError);
    expect(err.field).toBe('name');
    await expect(createClinic(db.ctx(SYSTEM), { name: 'Lake View', city: 'Jaipur', timezone: 'Asia/Kolkata' })).resolves.toMatchObject({ city: 'Jaipur' });
    const racing = await Promise.allSettled([1, 2, 3].map(() => createClinic(db.ctx(SYSTEM), { name: 'Twin', city: 'Goa', timezone: 'Asia/Kolkata' })));
    expect(racing.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('validates every field and names it', async () => {
    const err = (await createClinic(db.ctx(SYSTEM), { name: '', city: 'X', timezone: 'Moon/Base', phone: 'ring ring', email: 'nope', zip: '!' }).catch(
      (e) => e,
    )) as ValidationError;
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.issues.map((i) => i.field).sort()).toEqual(['email', 'name', 'phone', 'timezone', 'zip']);
  });

  it('refuses a zone JavaScript knows but PostgreSQL does not (it computes clinic days too)', async () => {
    const err = (await createClinic(db.ctx(SYSTEM), { name: 'Legacy', city: 'Somewhere', timezone: 'US/Pacific-New' }).catch((e) => e)) as ValidationError;
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.field).toBe('timezone');
  });

  it('filters by city and search in SQL, with totals and paging', async () => {
    for (const name of ['Alpha Care', 'Beta Care', 'Gamma Health']) await createClinic(db.ctx(SYSTEM), { name, city: 'Indore', timezone: 'Asia/Kolkata' });
    const page = await listClinics(db.ctx(SYSTEM), { city: 'INDORE', search: 'care', limit: 1 });
    expect(page).toMatchObject({ total: 2, limit: 1, offset: 0 });
    expect(page.items[0]!.name).toBe('Alpha Care');
  });

  it('anyone signed in reads clinics; only admins change them; changes are audited', async () => {
    const clinic = await createClinic(db.ctx(SYSTEM), { name: 'Hill Top', city: 'Shimla', timezone: 'Asia/Kolkata' });
    const { actor } = await makePatient(db);
    await expect(getClinic(db.ctx(actor), clinic.id)).resolves.toMatchObject({ name: 'Hill Top' });
    await expect(updateClinic(db.ctx(actor), clinic.id, { phone: '+91 177 1234567' })).rejects.toBeInstanceOf(ForbiddenError);
    await updateClinic(db.ctx(SYSTEM), clinic.id, { timezone: 'Asia/Calcutta', phone: '+91 177 1234567' });
    const [event] = await db.sql(
      `select before->>'timezone' as before, after->>'timezone' as after from audit_event where action = 'clinic.update' and entity_id = $1`,
      [String(clinic.id)],
    );
    expect(event).toEqual({ before: 'Asia/Kolkata', after: 'Asia/Calcutta' });
  });
});
