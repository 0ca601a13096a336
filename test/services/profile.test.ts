// The own-account services (profile.ts, images.ts, sessions.ts changePassword) and the database rules behind
// them: the session trigger keeps only the session a password change names, and only for a password change;
// user_image refuses other types and larger pictures whoever writes them.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, UnsupportedMediaTypeError, ValidationError } from '../../src/domain/errors.js';
import { ANONYMOUS, SYSTEM, type Actor } from '../../src/domain/roles.js';
import { untrusted } from '../../src/domain/validation.js';
import { encodeImage, getUserImage, setProfileImage } from '../../src/services/images.js';
import { initialise } from '../../src/services/init.js';
import { getProfile, updateProfile } from '../../src/services/profile.js';
import { changePassword } from '../../src/services/sessions.js';
import { FROZEN_AT } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, makeUser, PASSWORD, sessionFor } from '../support/fixtures.js';

let db: TestDatabase;
let clinicId: number;
beforeAll(async () => {
  db = await createTestDatabase();
  await initialise(db.ctx(SYSTEM), { adminEmail: 'admin@example.org', adminName: 'Ada Admin', adminPassword: 'S3cure-pass!' });
  clinicId = (await makeClinic(db)).id;
});
afterAll(() => db.drop());

/** The actor as a signed-in user acting through one of their sessions. */
const through = (actor: Actor, sessionId: number): Actor => ({ ...actor, sessionId }) as Actor;

async function runningSessions(userId: number): Promise<number[]> {
  const rows = await db.sql<{ id: number }>('select id from session where user_id = $1 and revoked_at is null order by id', [userId]);
  return rows.map((r) => r.id);
}

describe('updateProfile', () => {
  it('refuses every field an admin keeps, all at once, naming each and who changes it', async () => {
    const { actor } = await makeUser(db, 'patient');
    const err = await updateProfile(db.ctx(actor), untrusted({ name: 'X', email: 'x@example.org', role: 'admin', isActive: false })).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues).toEqual([
      { field: 'email', message: 'cannot be changed here: an admin changes it (ascend users update, PATCH /users/{id})' },
      { field: 'role', message: 'cannot be changed here: an admin changes it (ascend users update, PATCH /users/{id})' },
      { field: 'isActive', message: 'cannot be changed here: an admin changes it (ascend users deactivate)' },
    ]);
    expect((await getProfile(db.ctx(actor))).name).not.toBe('X');
  });

  it('a patient’s record fields point to the patient service', async () => {
    const { actor } = await makePatient(db);
    await expect(updateProfile(db.ctx(actor), untrusted({ bloodGroup: 'O+' }))).rejects.toThrow(
      'bloodGroup: cannot be changed here: is part of your patient record (ascend patients update, PATCH /patients/{id})',
    );
  });

  it('the system and anonymous callers have no own account', async () => {
    for (const actor of [SYSTEM, ANONYMOUS]) {
      await expect(updateProfile(db.ctx(actor), { name: 'Nobody' })).rejects.toBeInstanceOf(AuthError);
      await expect(getProfile(db.ctx(actor))).rejects.toBeInstanceOf(AuthError);
    }
  });

  it('a doctor’s change moves their doctor record’s updated_at, and is audited on the doctor too', async () => {
    const { doctor, actor } = await makeDoctor(db, clinicId);
    db.clock.advance('1h');
    try {
      const profile = await updateProfile(db.ctx(actor), { qualifications: 'MBBS\nMD', experienceYears: 4, name: 'Dr Renamed' });
      expect(profile).toMatchObject({ name: 'Dr Renamed', doctor: { id: doctor.id, qualifications: 'MBBS\nMD', experienceYears: 4 } });
      const [row] = await db.sql<{ updated_at: Date }>('select updated_at from doctor where id = $1', [doctor.id]);
      expect(row?.updated_at.toISOString()).toBe(db.clock.now().toISOString());
      const [event] = await db.sql<{ before: unknown; after: unknown }>(
        `select before, after from audit_event where action = 'doctor.update' and entity_id = $1`,
        [String(doctor.id)],
      );
      expect(event).toEqual({ before: { qualifications: null, experienceYears: 0 }, after: { qualifications: 'MBBS\nMD', experienceYears: 4 } });
    } finally {
      db.clock.set(FROZEN_AT);
    }
  });

  it('an empty qualifications clears them; an empty mobile clears it', async () => {
    const { actor } = await makeDoctor(db, clinicId);
    await updateProfile(db.ctx(actor), { qualifications: 'MBBS', mobile: '+91 98200 33333' });
    const cleared = await updateProfile(db.ctx(actor), { qualifications: '', mobile: '' });
    expect(cleared).toMatchObject({ mobile: null, doctor: { qualifications: null } });
  });
});

describe('changePassword and the session trigger', () => {
  it('keeps the session it is made from and ends every other running one, in one transaction', async () => {
    const { user, actor } = await makeUser(db, 'patient');
    const here = await sessionFor(db, user);
    const there = await sessionFor(db, user);
    const third = await sessionFor(db, user);
    const result = await changePassword(db.ctx(through(actor, here.sessionId)), { currentPassword: PASSWORD, newPassword: 'Fresh-pass-123' });
    expect(result).toEqual({ userId: user.id, kept: here.sessionId, revoked: [there.sessionId, third.sessionId] });
    expect(await runningSessions(user.id)).toEqual([here.sessionId]);
    const reasons = await db.sql<{ revoked_reason: string }>('select revoked_reason from session where id = any($1::int[])', [
      [there.sessionId, third.sessionId],
    ]);
    expect(reasons.map((r) => r.revoked_reason)).toEqual(['password', 'password']);
  });

  it('a wrong current password is a ValidationError on currentPassword, and changes nothing', async () => {
    const { user, actor } = await makeUser(db, 'doctor');
    const here = await sessionFor(db, user);
    const other = await sessionFor(db, user);
    const err = await changePassword(db.ctx(through(actor, here.sessionId)), { currentPassword: 'Wrong-pass-1', newPassword: 'Fresh-pass-123' }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({ field: 'currentPassword', message: 'currentPassword: is not your current password' });
    expect(await runningSessions(user.id)).toEqual([here.sessionId, other.sessionId]);
  });

  it('the setting is the transaction’s own: a later change by another writer ends every session again', async () => {
    const { user, actor } = await makeUser(db, 'patient');
    const here = await sessionFor(db, user);
    await changePassword(db.ctx(through(actor, here.sessionId)), { currentPassword: PASSWORD, newPassword: 'Fresh-pass-123' });
    await db.sql(`update "user" set password_hash = 'x' || password_hash where id = $1`, [user.id]);
    expect(await runningSessions(user.id)).toEqual([]);
  });

  it('the trigger spares the named session for a password change only, never for a role change or a deactivation', async () => {
    for (const change of [`role = 'doctor'`, 'is_active = false', 'token_version = token_version + 1']) {
      const { user } = await makeUser(db, 'admin');
      const kept = await sessionFor(db, user);
      const client = db.orm.em.getConnection();
      await client.transactional(async (trx) => {
        await client.execute(`select set_config('ascend.keep_session', ?, true)`, [String(kept.sessionId)], 'all', trx);
        await client.execute(`update "user" set ${change}, password_hash = 'y' || password_hash where id = ?`, [user.id], 'all', trx);
      });
      expect(await runningSessions(user.id), change).toEqual([]);
    }
  });
});

describe('images', () => {
  const png = () => sharp({ create: { width: 10, height: 10, channels: 4, background: '#0f08' } }).png();

  it('judges the declared type first (415), then the content (422)', async () => {
    const bytes = await png().toBuffer();
    await expect(encodeImage({ contentType: 'image/svg+xml', bytes })).rejects.toBeInstanceOf(UnsupportedMediaTypeError);
    await expect(encodeImage({ contentType: undefined, bytes })).rejects.toThrow('Content-Type: must be image/png, image/jpeg or image/webp (none was given)');
    await expect(encodeImage({ contentType: 'IMAGE/PNG; charset=binary', bytes })).resolves.toMatchObject({ contentType: 'image/png', width: 10 });
  });

  it('keeps a PNG’s transparency, drops its text chunks', async () => {
    const withText = await png()
      .withMetadata({ density: 300 })
      .withExif({ IFD0: { ImageDescription: 'home address' } })
      .toBuffer();
    const encoded = await encodeImage({ contentType: 'image/png', bytes: withText });
    const meta = await sharp(encoded.bytes).metadata();
    expect(meta).toMatchObject({ format: 'png', hasAlpha: true });
    expect(meta.exif).toBeUndefined();
    expect(encoded.bytes.includes('home address')).toBe(false);
  });

  it('the table refuses another type or a picture over 2 MiB, whoever writes it', async () => {
    const { user } = await makeUser(db, 'patient');
    const insert = (type: string, size: number) =>
      db.sql(`insert into user_image (user_id, content_type, bytes, etag, width, height) values ($1, $2, $3, '"abcdefghijklmnop"', 1, 1)`, [
        user.id,
        type,
        Buffer.alloc(size, 1),
      ]);
    await expect(insert('image/gif', 10)).rejects.toThrow(/user_image_content_type_check/);
    await expect(insert('image/png', 2 * 1024 * 1024 + 1)).rejects.toThrow(/user_image_size_check/);
    await expect(insert('image/png', 0)).rejects.toThrow(/user_image_size_check/);
  });

  it('two uploads at once leave one image, whole: one or the other', async () => {
    const { actor } = await makeUser(db, 'patient');
    const red = await sharp({ create: { width: 20, height: 10, channels: 3, background: '#f00' } })
      .png()
      .toBuffer();
    const blue = await sharp({ create: { width: 10, height: 20, channels: 3, background: '#00f' } })
      .jpeg()
      .toBuffer();
    const results = await Promise.all([
      setProfileImage(db.ctx(actor), { contentType: 'image/png', bytes: red }),
      setProfileImage(db.ctx(actor), { contentType: 'image/jpeg', bytes: blue }),
    ]);
    const stored = await getUserImage(db.ctx(actor), actor.kind === 'user' ? actor.id : 0);
    const match = results.find((r) => r.etag === stored.etag);
    expect(match?.contentType).toBe(stored.contentType);
    expect((await sharp(stored.bytes).metadata()).format).toBe(stored.contentType.slice('image/'.length));
  });
});
