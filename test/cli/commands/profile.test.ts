// `ascend profile` (show, update, image set|delete), `ascend users image` and `ascend passwd`, as child processes:
// every role for themself; refusals by exit code; the image from a file and from stdin; `users image` to a file
// and to a redirected stdout, byte for byte what GET /users/{id}/image serves; binary never on a terminal.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SYSTEM } from '../../../src/domain/roles.js';
import { initialise } from '../../../src/services/init.js';
import { BIN, type Cli, cliFor, loginAs, ok, refused } from '../../support/cli.js';
import { FROZEN_AT } from '../../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { makeClinic, makeDoctor, makeUser, PASSWORD } from '../../support/fixtures.js';
import { api, startServer, type TestServer } from '../../support/http.js';
import { onTerminal, screenLines } from '../../support/terminal.js';

let db: TestDatabase;
let server: TestServer;
let admin: Cli;
let clinicId: number;
const ADMIN = { email: 'admin@example.org', password: 'S3cure-pass!' };

beforeAll(async () => {
  db = await createTestDatabase();
  await initialise(db.ctx(SYSTEM), { adminEmail: ADMIN.email, adminName: 'Ada Admin', adminPassword: ADMIN.password });
  server = await startServer(db);
  admin = await loginAs(db.url, ADMIN.email, ADMIN.password);
  clinicId = (await makeClinic(db)).id;
});
afterAll(async () => {
  await server.close();
  await db.drop();
});

async function signedIn(role: 'patient' | 'doctor') {
  if (role === 'doctor') {
    const { doctor } = await makeDoctor(db, clinicId);
    return { id: doctor.userId, email: doctor.email, cli: await loginAs(db.url, doctor.email, PASSWORD) };
  }
  const { user } = await makeUser(db, role);
  return { id: user.id, email: user.email, cli: await loginAs(db.url, user.email, PASSWORD) };
}

const tmp = (name: string) => join(inject('testTmp'), `${Date.now().toString(36)}-${name}`);

/** The CLI through a shell, for binary stdin and stdout (`< photo.png`, `> out.png`). */
function shell(cli: Cli, line: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const { ASCEND_TOKEN: _none, ...inherited } = process.env;
    const env = { ...inherited, CI: 'true', NO_COLOR: '1', ASCEND_NOW: FROZEN_AT, DATABASE_URL: db.url, XDG_CONFIG_HOME: cli.configHome };
    const child = spawn('sh', ['-c', `"${process.execPath}" "${BIN}" ${line}`], { env });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
}

const picture = (width = 32, height = 24) => sharp({ create: { width, height, channels: 3, background: { r: 20, g: 120, b: 200 } } });

async function httpImage(userId: number): Promise<Buffer> {
  const token = (await api(server.url, 'POST', '/api/v1/auth/login', { body: ADMIN })).body.access_token;
  const response = await fetch(`${server.url}/api/v1/users/${userId}/image`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

describe('ascend profile show and update', () => {
  it('every role shows and changes their own account; --json is the API’s profile', async () => {
    const patient = await signedIn('patient');
    const doctor = await signedIn('doctor');
    for (const { cli, id, email } of [patient, doctor, { cli: admin, id: 1, email: ADMIN.email }]) {
      const updated = await ok(cli, ['profile', 'update', '--mobile', '+91 98200 22222', '--address', 'Hill Road 2']);
      expect(updated).toMatchObject({ email, mobile: '+91 98200 22222', address: 'Hill Road 2' });
      const shown = await ok(cli, ['profile', 'show']);
      expect(shown).toEqual(updated);
      if (email !== ADMIN.email) expect(shown.id).toBe(id);
    }
    const text = await doctor.cli.run(['profile', 'show']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^Mobile\s+\+91 98200 22222$/m);
    expect(text.stdout).toMatch(/^Licence\s+LIC-/m);
    expect((await patient.cli.run(['profile', 'show'])).stdout).not.toMatch(/^Licence/m);
  });

  it('a doctor changes their qualifications and experience; a patient may not (exit 2 naming the flag)', async () => {
    const doctor = await signedIn('doctor');
    const patient = await signedIn('patient');
    const done = await ok(doctor.cli, ['profile', 'update', '--qualifications', 'MBBS', '--experience-years', '9']);
    expect(done.doctor).toMatchObject({ qualifications: 'MBBS', experienceYears: 9 });
    refused(
      await patient.cli.run(['profile', 'update', '--qualifications', 'MBBS']),
      2,
      '--qualifications: only a doctor has qualifications; you are a patient',
    );
    refused(await patient.cli.run(['profile', 'update']), 2, 'nothing to update: give at least one of name, mobile, address');
    refused(
      await patient.cli.run(['profile', 'update', '--mobile', 'no phone']),
      2,
      '--mobile: must be a phone number: digits, spaces, + ( ) - (7 to 32 characters)',
    );
  });

  it('without a login: exit 5', async () => {
    const nobody = cliFor(db.url);
    refused(await nobody.run(['profile', 'show']), 5, 'not logged in: run ascend login, or set ASCEND_TOKEN');
    refused(await nobody.run(['profile', 'image', 'delete', '--yes']), 5, 'not logged in: run ascend login, or set ASCEND_TOKEN');
  });
});

describe('ascend passwd', () => {
  it('keeps this terminal’s session and ends every other one', async () => {
    const patient = await signedIn('patient');
    const elsewhere = await loginAs(db.url, patient.email, PASSWORD);
    const changed = await ok(patient.cli, ['passwd', '--password-stdin'], { input: `${PASSWORD}\nBrand-new-pass-9\n` });
    expect(changed).toEqual({ userId: patient.id, kept: expect.any(Number), revoked: [expect.any(Number)] });
    expect((await patient.cli.run(['whoami'])).code).toBe(0);
    refused(await elsewhere.run(['whoami']), 5, 'your session ended (the password was changed): run ascend login');
    const text = await patient.cli.run(['passwd', '--password-stdin'], { input: 'Brand-new-pass-9\nAnother-pass-10\n' });
    expect(text.stdout).toBe(`✓ Password changed; 0 other sessions logged out; this terminal stays logged in (session ${changed.kept})\n`);
  });
});

describe('ascend profile image and ascend users image', () => {
  it('sets the image from a file; users image writes the same bytes GET /users/{id}/image serves, to --output and to stdout', async () => {
    const patient = await signedIn('patient');
    const photo = tmp('photo.png');
    writeFileSync(photo, await picture().png().toBuffer());
    const set = await ok(patient.cli, ['profile', 'image', 'set', photo]);
    expect(set).toMatchObject({ contentType: 'image/png', width: 32, height: 24 });
    const served = await httpImage(patient.id);

    const out = tmp('out.png');
    const written = await ok(patient.cli, ['users', 'image', String(patient.id), '--output', out]);
    expect(written).toMatchObject({ contentType: 'image/png', size: served.length, etag: set.etag, file: out });
    expect(readFileSync(out).equals(served)).toBe(true);

    const redirected = tmp('redirected.png');
    const piped = await shell(patient.cli, `users image ${patient.email} > "${redirected}"`);
    expect(piped, piped.stderr).toEqual({ code: 0, stderr: '' });
    expect(readFileSync(redirected).equals(served)).toBe(true);
    // Admins fetch anyone's.
    const byAdmin = tmp('admin.png');
    expect((await admin.run(['users', 'image', patient.email, '--output', byAdmin])).code).toBe(0);
    expect(readFileSync(byAdmin).equals(served)).toBe(true);
  });

  it('sets the image from stdin (-), re-encoded without its metadata', async () => {
    const doctor = await signedIn('doctor');
    const photo = tmp('camera.jpg');
    writeFileSync(
      photo,
      await picture()
        .jpeg()
        .withExif({ IFD0: { Make: 'SpyCam', Copyright: 'Secret Owner' } })
        .toBuffer(),
    );
    const result = await shell(doctor.cli, `profile image set - --json < "${photo}"`);
    expect(result, result.stderr).toEqual({ code: 0, stderr: '' });
    const stored = await httpImage(doctor.id);
    expect((await sharp(stored).metadata()).exif).toBeUndefined();
    expect(stored.includes('SpyCam')).toBe(false);
    expect((await ok(doctor.cli, ['profile', 'show'])).image).toMatchObject({ contentType: 'image/jpeg', width: 32, height: 24 });
  });

  it('bad images are exit 2 naming FILE: not an image, a damaged one, too large, a directory', async () => {
    const patient = await signedIn('patient');
    const text = tmp('notes.png');
    writeFileSync(text, 'just some text\n');
    refused(await patient.cli.run(['profile', 'image', 'set', text]), 2, 'FILE: is not a PNG, JPEG or WebP image');
    const gif = tmp('anim.gif');
    writeFileSync(gif, await picture().gif().toBuffer());
    refused(await patient.cli.run(['profile', 'image', 'set', gif]), 2, 'FILE: is a GIF image, not a PNG, JPEG or WebP image');
    const png = await picture().png().toBuffer();
    const broken = tmp('broken.png');
    writeFileSync(broken, png.subarray(0, Math.floor(png.length / 2)));
    refused(await patient.cli.run(['profile', 'image', 'set', broken]), 2, 'FILE: is not a PNG image that can be decoded: it is damaged or incomplete');
    const big = tmp('big.png');
    writeFileSync(big, Buffer.concat([png, Buffer.alloc(2 * 1024 * 1024)]));
    refused(await patient.cli.run(['profile', 'image', 'set', big]), 2, 'FILE: is larger than 2 MiB, the most an image may be');
    refused(await patient.cli.run(['profile', 'image', 'set', inject('testTmp')]), 2, 'FILE: is a directory, not an image');
    refused(await patient.cli.run(['users', 'image', String(patient.id), '--output', tmp('none.png')]), 3, `profile image of user ${patient.id} not found`);
  });

  it('users image: another user’s is "not found" to a patient; --json needs --output', async () => {
    const patient = await signedIn('patient');
    const other = await signedIn('patient');
    const photo = tmp('other.webp');
    writeFileSync(photo, await picture().webp().toBuffer());
    expect((await other.cli.run(['profile', 'image', 'set', photo])).code).toBe(0);
    refused(await patient.cli.run(['users', 'image', String(other.id), '--output', tmp('x.webp')]), 3, `user ${other.id} not found`);
    refused(
      await other.cli.run(['users', 'image', String(other.id), '--json']),
      2,
      '--json: goes with --output FILE (stdout cannot hold both the image and JSON)',
    );
  });

  it('users image refuses to write binary to a terminal (exit 2)', async () => {
    const patient = await signedIn('patient');
    const run = await onTerminal(['users', 'image', String(patient.id)], {
      DATABASE_URL: db.url,
      XDG_CONFIG_HOME: patient.cli.configHome,
      ASCEND_NOW: FROZEN_AT,
    });
    expect(run.code).toBe(2);
    expect(screenLines(run.screen).filter(Boolean)).toEqual(['error: stdout is a terminal; redirect to a file or use --output FILE']);
  });

  it('profile image delete removes it (needs --yes without a terminal); a second time is exit 3', async () => {
    const patient = await signedIn('patient');
    const photo = tmp('del.png');
    writeFileSync(photo, await picture().png().toBuffer());
    expect((await patient.cli.run(['profile', 'image', 'set', photo])).code).toBe(0);
    refused(await patient.cli.run(['profile', 'image', 'delete']), 2, '--yes: needed to confirm that removes your profile image');
    const done = await patient.cli.run(['profile', 'image', 'delete', '--yes']);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toBe('✓ Removed your profile image\n');
    refused(await patient.cli.run(['profile', 'image', 'delete', '--yes']), 3, `profile image of user ${patient.id} not found`);
  });
});
