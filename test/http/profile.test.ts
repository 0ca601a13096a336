// One's own account over HTTP, for every role: PATCH /auth/me, PATCH /auth/password (other sessions end, this
// one goes on), and the profile image: PUT /auth/me/image (raw body; 413, 415, 422; stored re-encoded without
// metadata), GET /users/{id}/image (the user's visibility; ETag, 304), DELETE /auth/me/image.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../src/domain/roles.js';
import { initialise } from '../../src/services/init.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makeUser, PASSWORD } from '../support/fixtures.js';
import { api, type ApiResponse, startServer, type TestServer } from '../support/http.js';

let db: TestDatabase;
let server: TestServer;
let adminToken: string;
let clinicId: number;
beforeAll(async () => {
  db = await createTestDatabase();
  await initialise(db.ctx(SYSTEM), { adminEmail: 'admin@example.org', adminName: 'Ada Admin', adminPassword: 'S3cure-pass!' });
  server = await startServer(db);
  adminToken = (await login('admin@example.org', 'S3cure-pass!')).access_token;
  clinicId = (await makeClinic(db)).id;
});
afterAll(async () => {
  await server.close();
  await db.drop();
});

async function login(email: string, password = PASSWORD): Promise<{ access_token: string; refresh_token: string }> {
  const r = await api(server.url, 'POST', '/api/v1/auth/login', { body: { email, password } });
  expect(r.status, r.text).toBe(200);
  return r.body;
}

/** A user of each role, logged in over HTTP. */
async function signedIn(role: 'patient' | 'doctor' | 'admin') {
  if (role === 'doctor') {
    const { doctor } = await makeDoctor(db, clinicId);
    return { id: doctor.userId, email: doctor.email, doctorId: doctor.id, token: (await login(doctor.email)).access_token };
  }
  const { user } = await makeUser(db, role);
  return { id: user.id, email: user.email, doctorId: null, token: (await login(user.email)).access_token };
}

const me = (token: string) => api(server.url, 'GET', '/api/v1/auth/me', { token });
const patchMe = (token: string | undefined, body: unknown) => api(server.url, 'PATCH', '/api/v1/auth/me', { token, body });

function expectProblem(res: ApiResponse, status: number, field?: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  if (field !== undefined) expect(res.body.field).toBe(field);
}

/** PUT /auth/me/image with raw bytes. */
async function putImage(token: string | undefined, bytes: Uint8Array, contentType?: string): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (contentType) headers['content-type'] = contentType;
  const response = await fetch(`${server.url}/api/v1/auth/me/image`, { method: 'PUT', headers, body: bytes });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null, text };
}

/** GET /users/{id}/image, its body as bytes. */
async function getImage(token: string | undefined, userId: number, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}/api/v1/users/${userId}/image`, {
    headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
}

const picture = (width = 64, height = 48) => sharp({ create: { width, height, channels: 3, background: { r: 200, g: 60, b: 40 } } });

describe('PATCH /auth/me: one’s own account', () => {
  it('every role changes their own name, mobile and address, and reads them back from GET /auth/me', async () => {
    for (const role of ['patient', 'doctor', 'admin'] as const) {
      const user = await signedIn(role);
      const res = await patchMe(user.token, { name: `Renamed ${role}`, mobile: '+91 98200 11111', address: 'Lake Road 1\nPune' });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ id: user.id, role, name: `Renamed ${role}`, mobile: '+91 98200 11111', address: 'Lake Road 1\nPune', image: null });
      expect((await me(user.token)).body).toEqual(res.body);
      const [audit] = await db.sql<{ actor_id: number }>(`select actor_id from audit_event where action = 'user.update' and entity_id = $1`, [String(user.id)]);
      expect(audit?.actor_id).toBe(user.id);
    }
  });

  it('a doctor also changes their qualifications and experience; the doctor record shows them', async () => {
    const doctor = await signedIn('doctor');
    const res = await patchMe(doctor.token, { qualifications: 'MBBS, MD (Cardiology)', experienceYears: 12 });
    expect(res.status, res.text).toBe(200);
    expect(res.body.doctor).toMatchObject({ id: doctor.doctorId, qualifications: 'MBBS, MD (Cardiology)', experienceYears: 12 });
    const shown = await api(server.url, 'GET', `/api/v1/doctors/${doctor.doctorId}`, { token: adminToken });
    expect(shown.body).toMatchObject({ qualifications: 'MBBS, MD (Cardiology)', experienceYears: 12 });
  });

  it('a patient or an admin naming a doctor’s field is refused with 422 naming it', async () => {
    for (const role of ['patient', 'admin'] as const) {
      const user = await signedIn(role);
      const res = await patchMe(user.token, { experienceYears: 3 });
      expectProblem(res, 422, 'experienceYears');
      expect(res.body.detail).toBe(`experienceYears: only a doctor has years of experience; you are a ${role}`);
    }
  });

  it('role, email and licence are refused with 422 naming the field and saying an admin changes it; nothing changes', async () => {
    const doctor = await signedIn('doctor');
    for (const [field, value] of [
      ['role', 'admin'],
      ['email', 'new@example.org'],
      ['licenseNumber', 'XX-999'],
    ] as const) {
      const res = await patchMe(doctor.token, { name: 'Sneaky', [field]: value });
      expectProblem(res, 422, field);
      expect(res.body.detail).toMatch(new RegExp(`^${field}: cannot be changed here: an admin changes it`));
    }
    const after = await me(doctor.token);
    expect(after.body).toMatchObject({ role: 'doctor', email: doctor.email });
    expect(after.body.name).not.toBe('Sneaky');
  });

  it('an empty body, an unknown field and a bad mobile are 422; without a token 401', async () => {
    const patient = await signedIn('patient');
    expectProblem(await patchMe(patient.token, {}), 422);
    expectProblem(await patchMe(patient.token, { nickname: 'x' }), 422, 'nickname');
    expectProblem(await patchMe(patient.token, { mobile: 'call me' }), 422, 'mobile');
    expectProblem(await patchMe(undefined, { name: 'Nobody' }), 401);
  });
});

describe('PATCH /auth/password', () => {
  it('changes the password: every other session ends at once, this one goes on, for every role', async () => {
    for (const role of ['patient', 'doctor', 'admin'] as const) {
      const user = await signedIn(role);
      const other = await login(user.email);
      expect((await me(other.access_token)).status).toBe(200);
      const res = await api(server.url, 'PATCH', '/api/v1/auth/password', {
        token: user.token,
        body: { currentPassword: PASSWORD, newPassword: 'Changed-pass-77' },
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toEqual({ userId: user.id, kept: expect.any(Number), revoked: [expect.any(Number)] });
      expect((await me(user.token)).status).toBe(200);
      expectProblem(await me(other.access_token), 401);
      expectProblem(await api(server.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: other.refresh_token } }), 401);
      expectProblem(await api(server.url, 'POST', '/api/v1/auth/login', { body: { email: user.email, password: PASSWORD } }), 401);
      expect((await login(user.email, 'Changed-pass-77')).access_token).toEqual(expect.any(String));
    }
  });

  it('a wrong current password is 422 naming currentPassword (the token stays good), and counts as a failed login', async () => {
    const user = await signedIn('patient');
    const wrong = await api(server.url, 'PATCH', '/api/v1/auth/password', {
      token: user.token,
      body: { currentPassword: 'Not-the-pass-1', newPassword: 'Changed-pass-77' },
    });
    expectProblem(wrong, 422, 'currentPassword');
    expect(wrong.body.detail).toBe('currentPassword: is not your current password');
    expect((await me(user.token)).status).toBe(200);
    const [failures] = await db.sql<{ n: string }>('select count(*) as n from login_failure where lower(email) = lower($1)', [user.email]);
    expect(Number(failures?.n)).toBe(1);
    const weak = await api(server.url, 'PATCH', '/api/v1/auth/password', { token: user.token, body: { currentPassword: PASSWORD, newPassword: 'short' } });
    expectProblem(weak, 422, 'newPassword');
    expectProblem(await api(server.url, 'PATCH', '/api/v1/auth/password', { body: { currentPassword: PASSWORD, newPassword: 'Changed-pass-77' } }), 401);
  });
});

describe('the profile image', () => {
  it('every role sets their own image (PNG, JPEG, WebP); GET serves it with its type and a strong ETag; 304 on If-None-Match', async () => {
    const cases = [
      ['patient', 'image/png', await picture().png().toBuffer()],
      ['doctor', 'image/jpeg', await picture().jpeg().toBuffer()],
      ['admin', 'image/webp', await picture().webp().toBuffer()],
    ] as const;
    for (const [role, type, bytes] of cases) {
      const user = await signedIn(role);
      const put = await putImage(user.token, bytes, type);
      expect(put.status, put.text).toBe(200);
      expect(put.body).toMatchObject({ contentType: type, width: 64, height: 48, url: `/api/v1/users/${user.id}/image` });
      const got = await getImage(user.token, user.id);
      expect(got.status).toBe(200);
      expect(got.headers.get('content-type')).toBe(type);
      const etag = got.headers.get('etag') ?? '';
      expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/); // strong: no W/
      expect(etag).toBe(put.body.etag);
      expect(got.bytes.length).toBe(put.body.size);
      expect((await sharp(got.bytes).metadata()).format).toBe(type.slice('image/'.length));
      const again = await getImage(user.token, user.id, { 'if-none-match': etag });
      expect(again.status).toBe(304);
      expect(again.bytes.length).toBe(0);
      expect(again.headers.get('etag')).toBe(etag);
      expect((await getImage(user.token, user.id, { 'if-none-match': '"something-else-entirely"' })).status).toBe(200);
      expect((await me(user.token)).body.image).toMatchObject({ contentType: type, etag });
    }
  });

  it('strips metadata: a JPEG with EXIF (GPS, camera, copyright) is stored without any, turned upright by its orientation', async () => {
    const user = await signedIn('patient');
    const withExif = await picture(80, 40)
      .jpeg()
      .withExif({
        IFD0: { Copyright: 'Secret Owner', Make: 'SpyCam' },
        IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 2646/100', GPSLongitudeRef: 'W', GPSLongitude: '0/1 7/1 3966/100' },
      })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const sent = await sharp(withExif).metadata();
    expect(sent.exif).toBeDefined();
    expect(sent.orientation).toBe(6);
    expect(withExif.includes('SpyCam')).toBe(true);

    expect((await putImage(user.token, withExif, 'image/jpeg')).status).toBe(200);
    const [stored] = await db.sql<{ bytes: Buffer }>('select bytes from user_image where user_id = $1', [user.id]);
    const kept = await sharp(stored?.bytes).metadata();
    expect(kept.exif).toBeUndefined();
    expect(kept.xmp).toBeUndefined();
    expect(kept.orientation).toBeUndefined();
    expect(stored?.bytes.includes('SpyCam')).toBe(false);
    expect(stored?.bytes.includes('Secret Owner')).toBe(false);
    expect([kept.width, kept.height]).toEqual([40, 80]); // orientation 6: turned a quarter, then stored upright
  });

  it('a body over 2 MiB is 413, and nothing is stored', async () => {
    const user = await signedIn('patient');
    const big = Buffer.concat([await picture().png().toBuffer(), Buffer.alloc(2 * 1024 * 1024)]);
    const res = await putImage(user.token, big, 'image/png');
    expectProblem(res, 413, 'image');
    expect(res.body.detail).toBe('image: is larger than 2 MiB, the most an image may be');
    expect((await getImage(user.token, user.id)).status).toBe(404);
  });

  it('a type that is not PNG, JPEG or WebP (or none) is 415, judged by the Content-Type', async () => {
    const user = await signedIn('patient');
    const png = await picture().png().toBuffer();
    for (const type of ['image/gif', 'text/plain', 'application/json', 'application/octet-stream']) {
      const res = await putImage(user.token, png, type);
      expectProblem(res, 415, 'Content-Type');
      expect(res.body.detail).toBe(`Content-Type: must be image/png, image/jpeg or image/webp (got ${type})`);
    }
    expectProblem(await putImage(user.token, png), 415, 'Content-Type');
  });

  it('a declared type whose content is another format, or no decodable image, is 422 naming image', async () => {
    const user = await signedIn('patient');
    const png = await picture().png().toBuffer();
    const gif = await picture().gif().toBuffer();
    const lie = await putImage(user.token, png, 'image/jpeg');
    expectProblem(lie, 422, 'image');
    expect(lie.body.detail).toBe('image: is a PNG image, not the JPEG image it is declared to be (image/jpeg)');
    const gifAsPng = await putImage(user.token, gif, 'image/png');
    expect(gifAsPng.body.detail).toBe('image: is a GIF image, not the PNG image it is declared to be (image/png)');
    const text = await putImage(user.token, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'image/png');
    expect(text.body.detail).toBe('image: is text (SVG, HTML or XML), not the PNG image it is declared to be (image/png)');
    const noise = await putImage(user.token, Buffer.from('just some bytes'), 'image/webp');
    expect(noise.body.detail).toBe('image: is not the WebP image it is declared to be (image/webp)');
    const truncated = await putImage(user.token, png.subarray(0, Math.floor(png.length / 2)), 'image/png');
    expectProblem(truncated, 422, 'image');
    expect(truncated.body.detail).toBe('image: is not a PNG image that can be decoded: it is damaged or incomplete');
    expectProblem(await putImage(user.token, Buffer.alloc(0), 'image/png'), 422, 'image');
    expect((await getImage(user.token, user.id)).status).toBe(404);
  });

  it('a decompression bomb (a small file of too many pixels) is 422 before it is decoded', async () => {
    const user = await signedIn('patient');
    const bomb = await sharp({ create: { width: 8000, height: 6000, channels: 3, background: '#fff' } })
      .png({ compressionLevel: 9 })
      .toBuffer();
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    const res = await putImage(user.token, bomb, 'image/png');
    expectProblem(res, 422, 'image');
    expect(res.body.detail).toBe('image: is not a PNG image that can be decoded: it is larger than 40 megapixels');
  });

  it('a large image is stored at most 1024 pixels a side, keeping its shape', async () => {
    const user = await signedIn('patient');
    const res = await putImage(user.token, await picture(3000, 1500).jpeg().toBuffer(), 'image/jpeg');
    expect(res.body).toMatchObject({ width: 1024, height: 512 });
  });

  it('who may see the user may see the image: themself and admins; to others and to a doctor it is 404; without a token 401', async () => {
    const patient = await signedIn('patient');
    const doctor = await signedIn('doctor');
    const otherPatient = await signedIn('patient');
    expect((await putImage(patient.token, await picture().png().toBuffer(), 'image/png')).status).toBe(200);
    expect((await getImage(patient.token, patient.id)).status).toBe(200);
    expect((await getImage(adminToken, patient.id)).status).toBe(200);
    for (const token of [doctor.token, otherPatient.token]) {
      const hidden = await api(server.url, 'GET', `/api/v1/users/${patient.id}/image`, { token });
      expectProblem(hidden, 404);
      expect(hidden.body.detail).toBe(`user ${patient.id} not found`);
    }
    expectProblem(await api(server.url, 'GET', `/api/v1/users/${patient.id}/image`), 401);
    expectProblem(await putImage(undefined, await picture().png().toBuffer(), 'image/png'), 401);
  });

  it('DELETE removes one’s own image (204; audited); then GET and a second DELETE are 404', async () => {
    for (const role of ['patient', 'doctor', 'admin'] as const) {
      const user = await signedIn(role);
      expect((await putImage(user.token, await picture().webp().toBuffer(), 'image/webp')).status).toBe(200);
      const gone = await api(server.url, 'DELETE', '/api/v1/auth/me/image', { token: user.token });
      expect(gone.status, gone.text).toBe(204);
      const missing = await api(server.url, 'GET', `/api/v1/users/${user.id}/image`, { token: user.token });
      expectProblem(missing, 404);
      expect(missing.body.detail).toBe(`profile image of user ${user.id} not found`);
      expectProblem(await api(server.url, 'DELETE', '/api/v1/auth/me/image', { token: user.token }), 404);
      const actions = await db.sql<{ action: string }>(
        `select action from audit_event where entity = 'user' and entity_id = $1 and action like 'user.image.%' order by id`,
        [String(user.id)],
      );
      expect(actions.map((a) => a.action)).toEqual(['user.image.set', 'user.image.delete']);
    }
    expectProblem(await api(server.url, 'DELETE', '/api/v1/auth/me/image'), 401);
  });
});

describe('the OpenAPI document', () => {
  it('describes the image routes as raw image bodies, not JSON', async () => {
    const doc = (await api(server.url, 'GET', '/openapi.json')).body;
    const put = doc.paths['/auth/me/image'].put;
    expect(Object.keys(put.requestBody.content).sort()).toEqual(['image/jpeg', 'image/png', 'image/webp']);
    expect(put.requestBody.content['image/png'].schema).toEqual({ type: 'string', format: 'binary' });
    const get = doc.paths['/users/{id}/image'].get;
    expect(Object.keys(get.responses['200'].content).sort()).toEqual(['image/jpeg', 'image/png', 'image/webp']);
    expect(get.responses['304']).toMatchObject({ description: expect.stringMatching(/^Not modified/) });
  });
});
