import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, cliFor } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { day } from '../../support/clock.js';

let db: TestDatabase;
const dir = mkdtempSync(join(inject('testTmp'), 'seed-'));
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const FIXTURES = `
clinics:
  - { name: Lake Clinic, city: Bhopal, timezone: Asia/Kolkata, phone: "+91 755 1234567" }
  - { name: Spree Praxis, city: Berlin, timezone: Europe/Berlin }
admins:
  - { email: ops@example.org, name: Ops Admin }
doctors:
  - email: meera@example.org
    name: Dr Meera
    clinic: Lake Clinic, Bhopal
    specialty: Cardiology
    license: MP-2001
    maxPerDay: 16
    hours:
      - { days: mon-fri, start: "09:00", end: "13:00", length: 20m }
  - email: jonas@example.org
    name: Dr Jonas
    password: Jonas-pass-123
    clinic: { name: Spree Praxis, city: Berlin }
    specialty: dermatology
    license: BE-77
patients:
  - { email: ravi@example.org, name: Ravi Kumar, dob: 1985-06-15, bloodGroup: B+ }
slots:
  - { doctor: MP-2001, from: ${day(14)}, to: ${day(18)} }
  - { doctor: jonas@example.org, from: ${day(14)}, to: ${day(15)}, days: mon-fri, start: "10:00", end: "12:00", length: 30m }
`;

/** Every table's rows, without the columns that differ from run to run by nature (times of writing, hashes). */
async function snapshot() {
  const tables = ['clinic', '"user"', 'doctor', 'patient', 'doctor_hours', 'slot', 'appointment'];
  const out: Record<string, unknown[]> = {};
  for (const t of tables) {
    out[t] = (await db.sql(`select * from ${t} order by id`)).map(({ created_at, updated_at, password_hash, last_login_at, ...rest }) => rest);
  }
  return out;
}

describe('ascend seed', () => {
  it('loads a YAML file, and a second run changes nothing', async () => {
    const file = join(dir, 'fixtures.yaml');
    writeFileSync(file, FIXTURES);
    const cli = cliFor(db.url);
    const first = await cli.run(['seed', file, '--password-stdin', '--json'], { input: 'Seed-pass-123\n' });
    expect(first.code, first.stderr).toBe(0);
    expect(first.json().createdBy).toEqual({ clinics: 2, admins: 1, doctors: 2, patients: 1, hours: 1, slots: 60 + 8 });
    const before = await snapshot();
    const second = await cli.run(['seed', file, '--password-stdin', '--json'], { input: 'Seed-pass-123\n' });
    expect(second.code, second.stderr).toBe(0);
    expect(second.json()).toMatchObject({ created: 0, skippedBy: { clinics: 2, admins: 1, doctors: 2, patients: 1, hours: 1, slots: 68 } });
    expect(await snapshot()).toEqual(before);
    // The seeded users can log in with their passwords.
    expect((await cli.run(['login', '--email', 'jonas@example.org', '--password-stdin'], { input: 'Jonas-pass-123\n' })).code).toBe(0);
    expect((await cli.run(['login', '--email', 'meera@example.org', '--password-stdin'], { input: 'Seed-pass-123\n' })).code).toBe(0);
  });

  it('checks the whole file first and reports every error with its path; nothing is written', async () => {
    const bad = `
clinics:
  - { name: Nowhere, city: X, timezone: Mars/Base }
doctors:
  - { email: someone@example.org, name: Dr Someone, clinic: "No Such, Place", specialty: ent, license: MP-2001 }
  - { email: not-an-email, name: Dr Two, clinic: "Lake Clinic, Bhopal", specialty: ent, license: X2-1, maxPerDay: 0 }
patients:
  - { email: p2@example.org, name: P, dob: 2999-01-01 }
slots:
  - { doctor: nobody@example.org, from: ${day(9)}, to: ${day(10)} }
`;
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, bad);
    const before = await snapshot();
    const result = await cliFor(db.url).run(['seed', file, '--password-stdin'], { input: 'Seed-pass-123\n' });
    expect(result.code).toBe(2);
    const errors = result.stderr
      .trim()
      .split('\n')
      .map((line) => line.replace(/^error: /, ''));
    expect(errors).toEqual([
      'clinics[0].timezone: must be an IANA time zone such as Asia/Kolkata or Europe/Berlin',
      'doctors[0].license: already used by doctor 1 (meera@example.org)',
      'doctors[0].clinic: names no clinic in this file or the database (give "Name, City" or { name, city })',
      'doctors[1].email: must be a valid email address',
      'doctors[1].maxPerDay: must be at least 1',
      'patients[0].dateOfBirth: must be in the past'.replace('dateOfBirth', 'dob'),
      'slots[0].doctor: names no doctor (by licence or email) in this file or the database',
    ]);
    expect(await snapshot()).toEqual(before);
  });

  it('reads JSON too, and names a file it cannot parse', async () => {
    const file = join(dir, 'one.json');
    writeFileSync(file, JSON.stringify({ clinics: [{ name: 'Json Clinic', city: 'Delhi', timezone: 'Asia/Kolkata' }] }));
    const ok = await cliFor(db.url).run(['seed', file, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json().createdBy.clinics).toBe(1);
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'clinics: [ {');
    const parsed = await cliFor(db.url).run(['seed', broken]);
    expect(parsed.code).toBe(2);
    expect(parsed.stderr).toBe(
      'error: FILE: is not valid YAML (line 1, column 13: flow map in block collection must be sufficiently indented and end with a })\n',
    );
  });
});

/**
 * FILE may name any file the user can read (`sudo ascend seed /etc/shadow`): a refusal is one line, quick, quotes
 * nothing of a file that is not a seed file, and writes nothing.
 */
describe('ascend seed on files that are not seed files', () => {
  /** Runs the real CLI on FILE, killed after 20 s (a hang must fail the test, not the run). */
  function seedWithin(file: string, input = ''): Promise<{ code: number | null; stderr: string; ms: number }> {
    const env: Record<string, string> = {};
    const given = { ...process.env, CI: 'true', NO_COLOR: '1', DATABASE_URL: db.url, XDG_CONFIG_HOME: mkdtempSync(join(dir, 'cfg-')) };
    for (const [k, v] of Object.entries(given)) if (v !== undefined && k !== 'ASCEND_TOKEN') env[k] = v;
    const started = performance.now();
    return new Promise((resolve) => {
      const child = execFile(process.execPath, [BIN, 'seed', file], { env, timeout: 20_000, maxBuffer: 64 * 1024 * 1024 }, (_err, _stdout, stderr) =>
        resolve({ code: child.exitCode, stderr, ms: performance.now() - started }),
      );
      child.stdin!.on('error', () => undefined); // EPIPE: a refusal may come before all of stdin was read
      child.stdin!.end(input);
    });
  }

  /** Seeds FILE expecting a refusal: exit 2, one line on stderr, nothing written; returns that line. */
  async function refused(file: string, input = ''): Promise<string> {
    const before = await snapshot();
    const result = await seedWithin(file, input);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^error: [^\n]*\n$/);
    expect(result.ms).toBeLessThan(15_000);
    expect(await snapshot()).toEqual(before);
    return result.stderr.trimEnd();
  }

  const write = (name: string, content: string | Buffer) => {
    const file = join(dir, name);
    writeFileSync(file, content);
    return file;
  };

  it('a shadow-like file is refused without quoting a line of it', async () => {
    const hashes = write('shadow', 'root:$6$salt$hash0123456789:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n');
    const line = await refused(hashes);
    expect(line).toBe('error: FILE: is not a seed file: it has none of clinics, admins, doctors, patients, slots');
    const keyed = write('secrets.yaml', 'root: secret-value\napi_token: another-secret\n');
    expect(await refused(keyed)).toBe('error: FILE: is not a seed file: it has none of clinics, admins, doctors, patients, slots');
    const lines = write('passwd', 'root:x:0:0:root:/root:/bin/bash\nsecret:x:1:1::/home/secret:/bin/sh\n');
    expect(await refused(lines)).toBe('error: FILE: must be a mapping of clinics, admins, doctors, patients, slots (it is a single value)');
  });

  it('a JSON file that is not JSON is refused by line and column, without quoting it', async () => {
    const file = write('secret.json', 'root-secret-value');
    expect(await refused(file)).toBe('error: FILE: is not valid JSON (line 1, column 1: a value that is not JSON (text must be in double quotes))');
  });

  it('a YAML syntax error names its line and column and quotes no source', async () => {
    const file = write('syntax.yaml', 'clinics:\n  - name: Lake Clinic\n    city: "secret-in-source\n');
    expect(await refused(file)).toBe('error: FILE: is not valid YAML (line 4, column 1: missing closing "quote)');
  });

  it.each(['__proto__', 'constructor', 'prototype'])('a %s key is an unknown field named by its path, wherever it is', async (key) => {
    const doctor = `{ email: proto@example.org, name: Dr Proto, clinic: "Lake Clinic, Bhopal", specialty: ent, license: PR-1, ${key}: { isActive: false } }`;
    expect(await refused(write(`${key}-top.yaml`, `clinics: []\n${key}: { polluted: yes }\n`))).toBe(
      `error: ${key}: is not a known field (a seed file has clinics, admins, doctors, patients, slots)`,
    );
    expect(
      await refused(write(`${key}-clinic.yaml`, `clinics:\n  - { name: Proto, city: Bhopal, timezone: Asia/Kolkata, ${key}: { isActive: false } }\n`)),
    ).toBe(`error: clinics[0].${key}: is not a known field`);
    expect(await refused(write(`${key}-doctor.yaml`, `doctors:\n  - ${doctor}\n`))).toBe(`error: doctors[0].${key}: is not a known field`);
  });

  it('a YAML tag is refused in one line naming its path, not run and not warned about', async () => {
    const js = write('function.yaml', 'clinics:\n  - name: !!js/function "function () { return process.env }"\n    city: Bhopal\n');
    expect(await refused(js)).toBe('error: clinics[0].name: has a YAML tag ascend does not take (line 2); write plain values');
    const custom = write('custom.yaml', 'clinics: !custom\n  - { name: Lake, city: Bhopal, timezone: Asia/Kolkata }\n');
    expect(await refused(custom)).toBe('error: clinics: has a YAML tag ascend does not take (line 2); write plain values');
  });

  it('an alias bomb ("billion laughs") is refused at once', async () => {
    let bomb = 'clinics:\n  - &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
    for (let i = 1; i < 10; i++)
      bomb += `  - &${'abcdefghij'[i]} [${Array(9)
        .fill(`*${'abcdefghij'[i - 1]}`)
        .join(', ')}]\n`;
    expect(await refused(write('bomb.yaml', bomb))).toBe('error: FILE: repeats its YAML aliases too often (a resource exhaustion attack?)');
  });

  it('a device, a FIFO and a directory are refused before a byte is read', async () => {
    const notRegular = 'error: FILE: is not a regular file (a device, pipe or socket): give a .yaml or .json file, or - for stdin';
    expect(await refused('/dev/zero')).toBe(notRegular);
    const fifo = join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    expect(await refused(fifo)).toBe(notRegular);
    expect(await refused(dir)).toBe('error: FILE: is a directory, not a seed file');
  });

  it('a file or stdin larger than 2 MiB is refused unread', async () => {
    const big = '# padding\n'.repeat(300_000);
    expect(await refused(write('big.yaml', big))).toBe('error: FILE: is larger than 2 MiB, the most a seed file may be');
    expect(await refused('-', big)).toBe('error: FILE: is larger than 2 MiB, the most a seed file may be');
  });

  it('a binary file is refused without echoing its bytes', async () => {
    const elf = Buffer.concat([
      Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]),
      Buffer.from('\nclinics: [secret-in-binary]\n'),
      Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0xff, 0xfe]),
    ]);
    expect(await refused(write('binary', elf))).toBe('error: FILE: is a binary file, not YAML or JSON text');
    expect(await refused(write('latin1.yaml', Buffer.from('clinics: [caf\xe9]\n', 'latin1')))).toBe('error: FILE: is not UTF-8 text');
  });

  it('a mapping of 60,000 keys is answered within seconds (no quadratic duplicate check)', async () => {
    const keys = Array.from({ length: 60_000 }, (_, i) => `k${i}: ${i}`).join('\n');
    const before = await snapshot();
    const result = await seedWithin(write('wide.yaml', `clinics: []\n${keys}\n`));
    expect(result.code).toBe(2);
    expect(result.ms).toBeLessThan(15_000);
    expect(await snapshot()).toEqual(before);
    // One line per issue: the first twenty, then how many more.
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(21);
    expect(lines[0]).toBe('error: k0: is not a known field (a seed file has clinics, admins, doctors, patients, slots)');
    expect(lines[1]).toBe('error: k1: is not a known field');
    expect(lines[20]).toBe('error: and 59980 more');
  });

  it('a repeated key is refused, by path and line', async () => {
    const file = write('twice.yaml', 'clinics:\n  - name: Lake\n    city: Bhopal\n    name: Other\n');
    expect(await refused(file)).toBe('error: clinics[0].name: is given twice (line 4)');
  });

  it('a wrong value or key is quoted as at most 40 characters, escaped', async () => {
    const long = `mon${'x'.repeat(200)}\u001b[2J`;
    const seedFile = [
      'clinics: [{ name: Quote Clinic, city: Bhopal, timezone: Asia/Kolkata }]',
      'doctors:',
      '  - { email: quote@example.org, name: Dr Quote, clinic: "Quote Clinic, Bhopal", specialty: ent, license: QU-1,',
      `      hours: [{ days: ${JSON.stringify(long)}, start: "09:00", end: "10:00", length: 20m }] }`,
    ].join('\n');
    const before = await snapshot();
    const result = await cliFor(db.url).run(['seed', write('long-value.yaml', seedFile), '--password-stdin'], { input: 'Seed-pass-123\n' });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`error: doctors[0].hours[0].days: must be days like mon-fri, mon,wed,fri or all (got "mon${'x'.repeat(36)}…")\n`);
    expect(await snapshot()).toEqual(before);
    const key = `${'k'.repeat(60)}\u0007`;
    const keyed = write(
      'long-key.yaml',
      `doctors:\n  - { email: k@example.org, name: K, clinic: "Lake Clinic, Bhopal", specialty: ent, license: KK-1, ${JSON.stringify(key)}: 1 }\n`,
    );
    expect(await refused(keyed)).toBe(`error: doctors[0]."${'k'.repeat(39)}…": is not a known field`);
  });
});
