// Property-based fuzzing of every JSON body the API takes (POST, PATCH, PUT), against the real server on a
// real socket and a real database. Whatever arrives, the answer is never a 5xx, and every refusal is a 4xx
// problem+json (type, title, status, detail). Successes are welcome: mutating routes may well succeed.
//
// Each route gets one property of 200 cases, mixing: (a) arbitrary JSON as the whole body; (b) objects with
// the route's own field names holding wrong-typed or extreme values; (c) valid bodies with one field changed,
// removed or added, and valid bodies as they are; (d) raw bodies that are not JSON (or not sent as JSON).
// Most requests carry an admin token, so that they reach the services; some a patient's, a few none.
// The seed is fixed (FUZZ_SEED overrides it); a failure prints the request, the reply and the server's log.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initialise } from '../../src/services/init.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, makeUser, seedBooking, seedSlot, sessionFor, tokenFor } from '../support/fixtures.js';
import { contractOf } from '../support/api/contract.js';
import { api, startServer, type TestServer } from '../support/http.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { day, utc } from '../support/clock.js';

const NUM_RUNS = 200;
const SEED = Number(process.env.FUZZ_SEED ?? 20310101);
const ADMIN = { email: 'fuzz-admin@example.org', name: 'Fuzz Admin', password: 'S3cure-fuzz-pass!' };

// ---------------------------------------------------------------------------------------------------------
// The world the requests act on

interface World {
  admin: string;
  patient: string;
  clinicA: number;
  clinicB: number;
  clinicToDeactivate: number;
  doctor1: number;
  doctor2: number;
  doctor3: number;
  /** The doctor of the fresh appointments that cases cancel. */
  doctorFresh: number;
  doctorsToDeactivate: number[];
  patient1: number;
  patient2: number;
  user1: number;
  usersToDeactivate: number[];
  freeSlots: number[];
  cancelPool: number[];
  reschedulePool: number[];
  pastPool: number[];
  notesPool: number[];
  /** Slots whose times and capacity cases change (one booked). */
  slotUpdatePool: number[];
  /** Deleted slots that cases restore. */
  slotRestorePool: number[];
  /** A webhook endpoint (a documentation address: nothing is sent), and a delivery of its test event. */
  webhook: number;
  webhookDelivery: number;
  /** Open waitlist offers (patient 2's, of places freed by cancellations) that cases accept or decline. */
  offers: number[];
}

let db: TestDatabase;
let server: TestServer;
let w: World;
const savedMaxPerIp = process.env.ASCEND_LOGIN_MAX_PER_IP;

beforeAll(async () => {
  // Hundreds of failed logins from 127.0.0.1 would otherwise all be 429s before reaching the user lookup.
  process.env.ASCEND_LOGIN_MAX_PER_IP = '1000000';
  db = await createTestDatabase();
  await initialise(db.ctx(SYSTEM), { adminEmail: ADMIN.email, adminName: ADMIN.name, adminPassword: ADMIN.password });
  server = await startServer(db);
  const login = await api(server.url, 'POST', '/api/v1/auth/login', { body: { email: ADMIN.email, password: ADMIN.password } });
  expect(login.status).toBe(200);
  const admin: string = login.body.access_token;

  const clinicA = (await makeClinic(db, { timezone: 'Asia/Kolkata' })).id;
  const clinicB = (await makeClinic(db, { timezone: 'Europe/Berlin', city: 'Berlin' })).id;
  const clinicToDeactivate = (await makeClinic(db, { timezone: 'America/New_York', city: 'New York' })).id;
  const doctor1 = (await makeDoctor(db, clinicA, { maxPatientsPerDay: 200 })).doctor.id;
  const doctor2 = (await makeDoctor(db, clinicB, { specialty: 'dermatology' })).doctor.id;
  const doctor3 = (await makeDoctor(db, clinicA, { specialty: 'neurology', maxPatientsPerDay: 200 })).doctor.id;
  const doctorFresh = (await makeDoctor(db, clinicB, { maxPatientsPerDay: 200 })).doctor.id;
  const doctorsToDeactivate = [(await makeDoctor(db, clinicB)).doctor.id, (await makeDoctor(db, clinicB)).doctor.id];
  const p1 = await makePatient(db);
  const p2 = await makePatient(db);
  const user1 = (await makeUser(db, 'doctor')).user.id;
  const usersToDeactivate = [(await makeUser(db, 'patient')).user.id, (await makeUser(db, 'admin')).user.id];
  const patient = await tokenFor(db, { id: p1.patient.userId, role: 'patient' });

  // Working hours, so that generating from stored hours has something to read.
  for (const id of [doctor1, doctor3]) {
    const hours = await api(server.url, 'PUT', `/api/v1/doctors/${id}/hours`, {
      token: admin,
      body: { days: 'mon-fri', windows: [{ start: '09:00', end: '13:00' }], length: '30m' },
    });
    expect(hours.status).toBe(200);
  }

  // Future slots (on distinct days after the frozen today, so that one patient's bookings never overlap), and
  // bookings on them.
  const slot = (n: number, capacity = 50) => seedSlot(db, doctor1, utc(n, '04:00'), 20, capacity);
  const freeSlots: number[] = [];
  for (let n = 1; n <= 6; n++) freeSlots.push(await slot(n));
  const book = async (slotId: number, patientId: number) => {
    const r = await api(server.url, 'POST', '/api/v1/appointments', { token: admin, body: { slotId, patientId, reason: 'fuzz fixture' } });
    expect(r.status).toBe(201);
    return r.body.id as number;
  };
  const cancelPool: number[] = [];
  for (let n = 10; n <= 15; n++) cancelPool.push(await book(await slot(n), p1.patient.id));
  const reschedulePool = [await book(await slot(20), p1.patient.id), await book(await slot(21), p2.patient.id)];
  const notesPool = [await book(await slot(22), p1.patient.id), await book(await slot(23), p2.patient.id)];
  // Appointments that have already started (completing and no-shows need those), straight in SQL.
  const pastPool: number[] = [];
  for (let n = 6; n <= 11; n++) {
    const past = await seedSlot(db, doctor1, utc(n - 30, '04:00'), 20, 5);
    pastPool.push(await seedBooking(db, past, p1.patient.id));
  }
  notesPool.push(pastPool[0]!);
  const slotUpdatePool: number[] = [];
  for (let n = 40; n <= 42; n++) slotUpdatePool.push(await slot(n, 5));
  await book(slotUpdatePool[0]!, p2.patient.id);
  const slotRestorePool: number[] = [];
  for (let n = 43; n <= 45; n++) {
    const deleted = await slot(n, 5);
    await db.sql('update slot set is_active = false where id = $1', [deleted]);
    slotRestorePool.push(deleted);
  }
  const webhook = await api(server.url, 'POST', '/api/v1/webhooks', { token: admin, body: { url: 'https://203.0.113.7/hook' } });
  expect(webhook.status).toBe(201);
  const webhookTest = await api(server.url, 'POST', `/api/v1/webhooks/${webhook.body.id}/test`, { token: admin });
  expect(webhookTest.status).toBe(202);
  // Patient 2 waits for doctor 3 twice (the doctor, and the specialty); two cancellations offer them places.
  const offers: number[] = [];
  for (const [n, match] of [
    [50, { doctorId: doctor3 }],
    [51, { specialty: 'neurology' }],
  ] as const) {
    const entry = await api(server.url, 'POST', '/api/v1/waitlist', { token: admin, body: { patientId: p2.patient.id, ...match, from: 'today', to: '+60d' } });
    expect(entry.status).toBe(201);
    const booked = await book(await seedSlot(db, doctor3, utc(n, '04:00'), 20, 1), p1.patient.id);
    expect((await api(server.url, 'POST', `/api/v1/appointments/${booked}/cancel`, { token: admin, body: {} })).status).toBe(200);
    const [offer] = await db.sql<{ id: number }>(`select id from waitlist_offer where entry_id = $1 and status = 'open'`, [entry.body.id]);
    offers.push(offer?.id ?? 0);
  }

  w = {
    admin,
    patient,
    clinicA,
    clinicB,
    clinicToDeactivate,
    doctor1,
    doctor2,
    doctor3,
    doctorFresh,
    doctorsToDeactivate,
    patient1: p1.patient.id,
    patient2: p2.patient.id,
    user1,
    usersToDeactivate,
    freeSlots,
    cancelPool,
    reschedulePool,
    pastPool,
    notesPool,
    slotUpdatePool,
    slotRestorePool,
    webhook: webhook.body.id,
    webhookDelivery: webhookTest.body.delivery.id,
    offers,
  };
}, 120_000);

afterAll(async () => {
  if (savedMaxPerIp === undefined) delete process.env.ASCEND_LOGIN_MAX_PER_IP;
  else process.env.ASCEND_LOGIN_MAX_PER_IP = savedMaxPerIp;
  await server?.close();
  await db?.drop();
});

// ---------------------------------------------------------------------------------------------------------
// Values: valid ones, and nasty ones

const pad = (n: number) => String(n).padStart(2, '0');
const ymd = (d: Date) => d.toISOString().slice(0, 10);
const dateIn = (from: string, to: string) => fc.date({ min: new Date(`${from}T00:00:00Z`), max: new Date(`${to}T00:00:00Z`), noInvalidDate: true }).map(ymd);
const clockIn = (fromHour: number, toHour: number) =>
  fc.tuple(fc.integer({ min: fromHour, max: toHour }), fc.constantFrom(0, 15, 30, 45)).map(([h, m]) => `${pad(h)}:${pad(m)}`);
const futureDay = dateIn(day(9), day(1834));
const futureLocal = fc.tuple(futureDay, clockIn(0, 23)).map(([d, c]) => `${d} ${c}`);
const futureIso = fc.date({ min: new Date(`${day(9)}T00:00:00Z`), max: new Date(`${day(1834)}T00:00:00Z`), noInvalidDate: true }).map((d) => d.toISOString());
const futureTime = fc.oneof(futureDay, futureLocal, futureIso);
const birthDate = dateIn('1900-01-01', '2020-12-31');

const token = () => randomBytes(4).toString('hex');
const email = fc.oneof(
  fc.stringMatching(/^[a-z0-9]{1,10}$/).map((s) => `fz.${s}@example.org`),
  fc.constant(null).map(() => `fz-${token()}@example.org`),
);
const personName = fc.oneof(
  fc.stringMatching(/^[A-Z][a-z]{1,12}( [A-Z][a-z]{1,12})?$/),
  fc.constantFrom('Zoë Ångström', 'José Núñez', '李小龙', "D'Arcy O'Neil"),
);
const password = fc.constantFrom('Fuzz-pass-123', 'another1password', 'pässwörd-ÄÖ-99', 'x1'.repeat(36));
const phone = fc.constantFrom('+91 98765 43210', '020-1234567', '(020) 555-0101', '+1 (212) 555-0199');
const text = (max: number) => fc.oneof(fc.string({ maxLength: Math.min(max, 40) }), fc.constantFrom('', '  ', 'x'.repeat(max)));
const timezone = fc.constantFrom('Asia/Kolkata', 'Europe/Berlin', 'America/New_York', 'UTC', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Pacific/Chatham');
const bloodGroup = fc.constantFrom('A+', 'A-', 'B+', 'B-', 'AB+', 'AB-', 'O+', 'O-');
const slotLength = fc.constantFrom('5m', '10m', '15m', '20m', '30m', '45m', '1h', '1h30m', '8h', '1200');
const weekdays = fc.constantFrom('mon-fri', 'all', 'daily', 'sat-sun', 'mon,wed,fri', 'tue', 'fri-mon', 'Monday-Friday');
const zip = fc.constantFrom('411001', '10115', 'SW1A 1AA', 'K1A-0B1');
const license = fc.stringMatching(/^[A-Z]{3}-[0-9]{4,8}$/);

const NASTY_STRINGS = [
  '',
  ' ',
  '\t\n',
  '\u0000',
  'a\u0000b',
  'abc\u0000',
  "' or 1=1 --",
  '"; drop table "user"; --',
  '%',
  '_',
  '\\',
  '%_\\%',
  '<script>alert(1)</script>',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Log4Shell probe, sent as text on purpose
  '${jndi:ldap://x}',
  '{{7*7}}',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  'NaN',
  'Infinity',
  '-1',
  '0',
  '1',
  '1.5',
  '1e3',
  '0x10',
  '99999999999',
  '2147483647',
  '2147483648',
  '-2147483649',
  '99999999999999999999999999',
  '2031-02-30',
  '2031-13-01',
  '2031-00-10',
  '2031-1-1',
  '0000-01-01',
  '0001-01-01',
  '0099-12-31',
  '0100-01-01',
  '1899-12-31',
  '1900-01-01',
  '2020-02-29',
  day(9),
  '9999-12-31',
  '10000-01-01',
  `${day(160)} 09:00`,
  `${day(160)}T09:00`,
  `${day(160)} 24:00`,
  `${day(160)} 23:60`,
  `${day(27)} 02:30`, // Berlin's clocks go forward that night (Sunday 29 March 2026)
  `${day(160)}T09:00:00Z`,
  `${day(160)}T09:00:00+14:00`,
  `${day(160)}T09:00:00-12:00`,
  `${day(160)}T09:00:00+99:99`,
  `${day(160)}T09:00:00.123456789+0530`,
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '9999-12-31T23:59:59-23:59',
  '25:99',
  '24:00',
  '24:01',
  '00:00',
  '23:59',
  '9:00',
  '09:00-17:00',
  '12:00-11:00',
  '00:00-24:00',
  'Mars/Olympus',
  'US/Pacific-New',
  'Etc/GMT+14',
  'Etc/GMT-14',
  'asia/kolkata',
  'UTC',
  'EST5EDT',
  'Europe/Kyiv',
  'mon-fri',
  'sun-sat',
  'all',
  'xyz',
  'mon,,fri',
  'mon-',
  '0m',
  '4m',
  '5m',
  '8h',
  '8h1m',
  '481m',
  '61s',
  '-5m',
  '1h 30m',
  '99999999999999999999m',
  `${'1'.repeat(400)}s`,
  '\uD800',
  '\uDFFF\uD800',
  '😀'.repeat(60),
  'e\u0301'.repeat(30),
  '\u202Eevil',
  '\uFEFFbom',
  'ﷺ',
  'a@b.c',
  'not-an-email',
  `x@${'y'.repeat(300)}.com`,
  'A+',
  'Z+',
  'admin',
  'patient',
  'root',
  '+91 98765 43210',
  `+${'9'.repeat(40)}`,
  'x'.repeat(201),
  'x'.repeat(1001),
  'x'.repeat(5001),
  'x'.repeat(60_000),
];

const NASTY_NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.5,
  -0.5,
  1.0000001,
  5,
  100,
  101,
  200,
  201,
  70,
  71,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31),
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  1e21,
  1e308,
  -1e308,
  5e-324,
  1e-7,
];

const deepArray = JSON.parse('['.repeat(2000) + ']'.repeat(2000)) as unknown;
const deepObject = JSON.parse(`${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}`) as unknown;

/** A wrong, extreme or hostile value for any field. */
const nasty: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_NUMBERS) },
  { weight: 2, arbitrary: fc.constantFrom(null, true, false, [], {}, [null], [1, 2, 3], { '': '' }) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(deepArray, deepObject, 'x'.repeat(101 * 1024)) },
);

/**
 * A valid value, subtly spoiled: control characters, lone surrogates or injection text inside a string that
 * otherwise passes; a number nudged off its range or type; an array emptied, doubled or spoiled inside.
 */
function tainted(value: unknown): fc.Arbitrary<unknown> {
  if (typeof value === 'string') {
    const v = value;
    const bad = fc.oneof(
      { weight: 2, arbitrary: fc.constant('\u0000') },
      { weight: 2, arbitrary: fc.constantFrom('\uD800', '\uDC00', '\uDBFF') },
      { weight: 2, arbitrary: fc.constantFrom('\u202E', '\u0007', '\u001B[31m', '\r\n', "' or 1=1 --", '%', '_', '\\', '"', '😀', '\u0301', '\uFFFF', ' ') },
    );
    return fc.oneof(
      {
        weight: 3,
        arbitrary: bad.chain((b) => fc.constantFrom(`${v}${b}`, `${b}${v}`, v.length > 1 ? `${v.slice(0, 1)}${b}${v.slice(1)}` : `${v}${b}${v}`)),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          v.toUpperCase(),
          v.toLowerCase(),
          ` ${v} `,
          `${v}${v}`,
          v.repeat(300),
          v.normalize('NFD'),
          v.replace(/[0-9]/g, '٣'),
          v.replace(/-/g, '/'),
        ),
      },
      // the same text, but not a string
      { weight: 1, arbitrary: fc.constantFrom<unknown>([v], { value: v }, Number(v), v.length, v.length > 0) },
    );
  }
  if (typeof value === 'number') {
    const v = value;
    return fc.constantFrom(v + 0.5, -v, v * 1_000_000, v + 2 ** 31, String(v), [v], v === 0 ? -1 : 0);
  }
  if (typeof value === 'boolean') return fc.constantFrom(String(value), value ? 1 : 0, [value]);
  if (Array.isArray(value)) {
    const arr = value;
    return fc.oneof(
      fc.constantFrom([], [...arr, ...arr], [arr], arr.length ? arr[0] : null),
      arr.length
        ? fc.tuple(fc.nat({ max: arr.length - 1 }), fc.constant(null)).chain(([i]) => tainted(arr[i]).map((t) => arr.map((x, j) => (j === i ? t : x))))
        : fc.constant([null]),
    );
  }
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (!keys.length) return fc.constantFrom({ x: 1 }, []);
    return fc.constantFrom(...keys).chain((k) => fc.oneof(tainted(obj[k]), nasty).map((t) => ({ ...obj, [k]: t })));
  }
  return nasty;
}

// ---------------------------------------------------------------------------------------------------------
// Routes

interface Spec {
  method: 'POST' | 'PATCH' | 'PUT';
  /** The path under /api/v1, for one id of the route's targets. */
  path: (id: number) => string;
  /** Existing ids to put in the path (none for routes without one). */
  ids?: number[];
  /** Makes a fresh target for one case (for routes whose targets are used up: a cancelled appointment stays cancelled). */
  fresh?: () => Promise<number>;
  /** Reachable without a token. */
  public?: boolean;
  /** Valid values for each field of the body. */
  fields: Record<string, fc.Arbitrary<unknown>>;
  /** A valid body (the base that one field is mutated in). */
  valid: fc.Arbitrary<Record<string, unknown>>;
  /** Wrong values that only make sense inside one field (array items, nested objects). */
  deep?: Record<string, fc.Arbitrary<unknown>>;
  /** Sends an Idempotency-Key header sometimes. */
  idempotency?: boolean;
  /** Tokens of fresh sessions for each case, for routes that end the session they are called with. */
  ownSession?: boolean;
}

/** A valid body: the required fields, and some of the optional ones. */
function someOf(required: Record<string, fc.Arbitrary<unknown>>, optional: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return fc.record({ ...required, ...optional }, { requiredKeys: Object.keys(required) as never[] }) as fc.Arbitrary<Record<string, unknown>>;
}

/** At least one of the fields (PATCH bodies). */
function atLeastOne(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return (fc.record(fields, { requiredKeys: [] }) as fc.Arbitrary<Record<string, unknown>>).filter((o) => Object.keys(o).length > 0);
}

const windowArb = fc.tuple(clockIn(6, 11), clockIn(12, 20)).map(([start, end]) => ({ start, end }));

const ROUTES: Record<string, (w: World) => Spec> = {
  'POST /auth/register': () => {
    const fields = {
      email,
      name: personName,
      password,
      dateOfBirth: birthDate,
      bloodGroup: fc.oneof(bloodGroup, fc.constant(null)),
      allergies: text(1000),
      emergencyContact: text(200),
      mobile: fc.oneof(phone, fc.constant(null)),
      address: text(500),
    };
    const { email: e, name, password: p, ...optional } = fields;
    return { method: 'POST', path: () => '/auth/register', public: true, fields, valid: someOf({ email: e, name, password: p }, optional) };
  },

  'POST /auth/login': () => {
    const known = fc.constantFrom(
      ADMIN.email,
      ADMIN.email.toUpperCase(),
      ' fuzz-admin@example.org ',
      'fuzz%@example.org',
      'fuzz_admin@example.org',
      'nobody@example.org',
    );
    const fields = { email: fc.oneof(known, email), password: fc.constantFrom(ADMIN.password, 'wrong-password-1', 'x'.repeat(200)), username: known };
    const valid = fc.oneof(
      fc.record({ email: fields.email, password: fields.password }),
      fc.record({ username: fields.username, password: fields.password }),
    ) as fc.Arbitrary<Record<string, unknown>>;
    return { method: 'POST', path: () => '/auth/login', public: true, fields, valid };
  },

  'POST /auth/refresh': () => {
    const fields = {
      refresh_token: fc.oneof(fc.string({ maxLength: 80 }), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/)),
      grant_type: fc.constant('refresh_token'),
    };
    return {
      method: 'POST',
      path: () => '/auth/refresh',
      public: true,
      fields,
      valid: someOf({ refresh_token: fields.refresh_token }, { grant_type: fields.grant_type }),
    };
  },

  'POST /auth/logout': () => ({ method: 'POST', path: () => '/auth/logout', ownSession: true, fields: {}, valid: fc.constant({}) }),

  'PATCH /auth/me': () => {
    const fields = {
      name: personName,
      mobile: fc.oneof(phone, fc.constantFrom(null, '')),
      address: text(500),
      qualifications: text(500),
      experienceYears: fc.integer({ min: 0, max: 70 }),
    };
    return { method: 'PATCH', path: () => '/auth/me', fields, valid: atLeastOne(fields) };
  },

  // Never the right current password: a change would end the sessions the other cases use.
  'PATCH /auth/password': () => {
    const fields = { currentPassword: fc.constantFrom('wrong-password-1', 'x'.repeat(200)), newPassword: password };
    return { method: 'PATCH', path: () => '/auth/password', fields, valid: fc.record(fields) };
  },

  // A JSON body is never an image (415); the image itself is test/http/profile.test.ts's.
  'PUT /auth/me/image': () => ({ method: 'PUT', path: () => '/auth/me/image', fields: {}, valid: fc.constant({}) }),

  'POST /users': () => {
    const fields = {
      email,
      name: personName,
      password,
      role: fc.constantFrom('admin', 'doctor', 'patient'),
      mobile: fc.oneof(phone, fc.constant(null)),
      address: text(500),
    };
    const { mobile, address, ...required } = fields;
    return { method: 'POST', path: () => '/users', fields, valid: someOf(required, { mobile, address }) };
  },

  'PATCH /users/:id': (w) => {
    const fields = {
      email,
      name: personName,
      role: fc.constantFrom('admin', 'doctor', 'patient'),
      mobile: fc.oneof(phone, fc.constantFrom(null, '')),
      address: text(500),
    };
    return { method: 'PATCH', path: (id) => `/users/${id}`, ids: [w.user1, w.user1, w.user1, w.usersToDeactivate[0]!], fields, valid: atLeastOne(fields) };
  },

  'POST /users/:id/deactivate': (w) => {
    const fields = { cancelBookings: fc.boolean(), reason: text(50) };
    return { method: 'POST', path: (id) => `/users/${id}/deactivate`, ids: w.usersToDeactivate, fields, valid: fc.constant({}) };
  },

  'POST /users/:id/reactivate': (w) => {
    const fields = { reason: text(50) };
    return { method: 'POST', path: (id) => `/users/${id}/reactivate`, ids: w.usersToDeactivate, fields, valid: fc.constant({}) };
  },

  'POST /clinics': () => {
    const fields = {
      name: personName.map((n) => `Clinic ${n}`),
      city: fc.constantFrom('Pune', 'Berlin', 'New York', 'São Paulo', 'Zürich'),
      timezone,
      address: text(500),
      state: text(100),
      zip: fc.oneof(zip, fc.constant(null)),
      phone: fc.oneof(phone, fc.constant(null)),
      email: fc.oneof(email, fc.constant(null)),
    };
    const { name, city, timezone: tz, ...optional } = fields;
    return { method: 'POST', path: () => '/clinics', fields, valid: someOf({ name, city, timezone: tz }, optional) };
  },

  'PATCH /clinics/:id': (w) => {
    const fields = {
      name: personName.map((n) => `Clinic ${n}`),
      city: fc.constantFrom('Berlin', 'Hamburg', 'München'),
      timezone: fc.constantFrom('Europe/Berlin', 'Europe/Paris', 'UTC'),
      address: text(500),
      state: text(100),
      zip: fc.oneof(zip, fc.constantFrom(null, '')),
      phone: fc.oneof(phone, fc.constantFrom(null, '')),
      email: fc.oneof(email, fc.constantFrom(null, '')),
    };
    return { method: 'PATCH', path: (id) => `/clinics/${id}`, ids: [w.clinicB], fields, valid: atLeastOne(fields) };
  },

  'POST /clinics/:id/deactivate': (w) => {
    const fields = { cancelBookings: fc.boolean(), force: fc.boolean() };
    return { method: 'POST', path: (id) => `/clinics/${id}/deactivate`, ids: [w.clinicToDeactivate, w.clinicB], fields, valid: fc.constant({}) };
  },

  'POST /clinics/:id/reactivate': (w) => {
    const fields = { force: fc.boolean() };
    return { method: 'POST', path: (id) => `/clinics/${id}/reactivate`, ids: [w.clinicToDeactivate, w.clinicB], fields, valid: fc.constant({}) };
  },

  'POST /doctors': (w) => {
    const fields = {
      email,
      name: personName,
      password,
      mobile: fc.oneof(phone, fc.constant(null)),
      clinicId: fc.constantFrom(w.clinicA, w.clinicB),
      specialty: fc.constantFrom('cardiology', 'Dermatology', 'ENT', 'général'),
      licenseNumber: license,
      qualifications: text(500),
      experienceYears: fc.integer({ min: 0, max: 70 }),
      maxPatientsPerDay: fc.integer({ min: 1, max: 200 }),
    };
    const { mobile, qualifications, experienceYears, maxPatientsPerDay, ...required } = fields;
    return { method: 'POST', path: () => '/doctors', fields, valid: someOf(required, { mobile, qualifications, experienceYears, maxPatientsPerDay }) };
  },

  'PATCH /doctors/:id': (w) => {
    const fields = {
      name: personName,
      mobile: fc.oneof(phone, fc.constantFrom(null, '')),
      clinicId: fc.constantFrom(w.clinicA, w.clinicB, w.clinicToDeactivate),
      specialty: fc.constantFrom('cardiology', 'Dermatology'),
      licenseNumber: license,
      qualifications: text(500),
      experienceYears: fc.integer({ min: 0, max: 70 }),
      maxPatientsPerDay: fc.integer({ min: 1, max: 200 }),
    };
    return { method: 'PATCH', path: (id) => `/doctors/${id}`, ids: [w.doctor2], fields, valid: atLeastOne(fields) };
  },

  'POST /doctors/:id/deactivate': (w) => {
    const fields = { cancelBookings: fc.boolean() };
    return { method: 'POST', path: (id) => `/doctors/${id}/deactivate`, ids: w.doctorsToDeactivate, fields, valid: fc.record(fields, { requiredKeys: [] }) };
  },

  'POST /doctors/:id/reactivate': (w) => {
    const fields = { cancelBookings: fc.boolean() };
    return { method: 'POST', path: (id) => `/doctors/${id}/reactivate`, ids: w.doctorsToDeactivate, fields, valid: fc.constant({}) };
  },

  'PUT /doctors/:id/hours': (w) => {
    const fields = {
      days: weekdays,
      windows: fc.array(windowArb, { minLength: 1, maxLength: 3 }),
      length: slotLength,
      capacity: fc.integer({ min: 1, max: 100 }),
    };
    const deep = {
      windows: fc.oneof(
        fc.array(fc.record({ start: fc.oneof(clockIn(0, 23), nasty), end: fc.oneof(clockIn(0, 23), nasty) }), { minLength: 1, maxLength: 4 }),
        fc.array(nasty, { minLength: 1, maxLength: 3 }),
        fc.array(windowArb, { minLength: 11, maxLength: 12 }),
        fc.constant([
          { start: '09:00', end: '12:00' },
          { start: '11:00', end: '13:00' },
        ]),
        fc.constant([{ start: '09:00', end: '12:00', extra: 1 }]),
      ),
    };
    const { capacity, ...required } = fields;
    return { method: 'PUT', path: (id) => `/doctors/${id}/hours`, ids: [w.doctor3], fields, valid: someOf(required, { capacity }), deep };
  },

  'POST /doctors/:id/leaves': (w) => {
    const fields = { from: futureTime, to: futureTime, reason: text(500), cancelBookings: fc.boolean() };
    const valid = fc
      .record({
        from: dateIn(day(9), '2045-12-31'),
        days: fc.integer({ min: 0, max: 3 }),
        reason: fc.option(text(500), { nil: undefined }),
        cancelBookings: fc.option(fc.boolean(), { nil: undefined }),
      })
      .map(({ from, days, reason, cancelBookings }) => {
        const to = ymd(new Date(Date.parse(`${from}T00:00:00Z`) + days * 86_400_000));
        return { from, to, ...(reason !== undefined ? { reason } : {}), ...(cancelBookings !== undefined ? { cancelBookings } : {}) };
      });
    return { method: 'POST', path: (id) => `/doctors/${id}/leaves`, ids: [w.doctor3], fields, valid };
  },

  'POST /patients': () => {
    const fields = {
      email,
      name: personName,
      password,
      dateOfBirth: birthDate,
      bloodGroup: fc.oneof(bloodGroup, fc.constant(null)),
      allergies: text(1000),
      emergencyContact: text(200),
      mobile: fc.oneof(phone, fc.constant(null)),
      address: text(500),
    };
    const { email: e, name, password: p, dateOfBirth, ...optional } = fields;
    return { method: 'POST', path: () => '/patients', fields, valid: someOf({ email: e, name, password: p, dateOfBirth }, optional) };
  },

  'PATCH /patients/:id': (w) => {
    const fields = {
      name: personName,
      dateOfBirth: birthDate,
      bloodGroup: fc.oneof(bloodGroup, fc.constantFrom(null, '')),
      allergies: text(1000),
      emergencyContact: text(200),
      mobile: fc.oneof(phone, fc.constantFrom(null, '')),
      address: text(500),
    };
    return { method: 'PATCH', path: (id) => `/patients/${id}`, ids: [w.patient1, w.patient2], fields, valid: atLeastOne(fields) };
  },

  'POST /slots': (w) => {
    const fields = {
      doctorId: fc.constantFrom(w.doctor1, w.doctor3),
      start: fc.oneof(futureLocal, futureIso),
      length: slotLength,
      end: futureLocal,
      capacity: fc.integer({ min: 1, max: 100 }),
    };
    const valid = fc
      .record({
        doctorId: fields.doctorId,
        start: futureLocal,
        length: fc.option(slotLength, { nil: undefined }),
        capacity: fc.option(fields.capacity, { nil: undefined }),
      })
      .map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)));
    return { method: 'POST', path: () => '/slots', fields, valid };
  },

  'POST /slots/generate': (w) => {
    const fields = {
      doctorIds: fc.array(fc.constantFrom(w.doctor1, w.doctor3), { minLength: 1, maxLength: 2 }),
      clinicId: fc.constantFrom(w.clinicA, w.clinicB),
      from: futureDay,
      to: futureDay,
      days: weekdays,
      start: clockIn(6, 11),
      end: clockIn(12, 20),
      length: slotLength,
      breaks: fc.array(fc.constantFrom('12:00-13:00', '10:00 - 10:30', '07:00-08:00'), { maxLength: 2 }),
      capacity: fc.integer({ min: 1, max: 100 }),
      dryRun: fc.boolean(),
    };
    const valid = fc
      .record({
        target: fc.constantFrom('doctors', 'doctors', 'clinic'),
        doctorIds: fields.doctorIds,
        clinicId: fc.constant(w.clinicA),
        from: dateIn(day(9), day(1469)),
        span: fc.integer({ min: 0, max: 13 }),
        explicit: fc.boolean(),
        days: weekdays,
        start: fields.start,
        end: fields.end,
        length: fc.constantFrom('20m', '30m', '1h'),
        breaks: fields.breaks,
        capacity: fc.option(fields.capacity, { nil: undefined }),
        dryRun: fc.option(fc.boolean(), { nil: undefined }),
      })
      .map((g) => {
        const body: Record<string, unknown> = {
          ...(g.target === 'clinic' ? { clinicId: g.clinicId } : { doctorIds: g.doctorIds }),
          from: g.from,
          to: ymd(new Date(Date.parse(`${g.from}T00:00:00Z`) + g.span * 86_400_000)),
        };
        if (g.explicit) Object.assign(body, { days: g.days, start: g.start, end: g.end, length: g.length, breaks: g.breaks });
        if (g.capacity !== undefined) body.capacity = g.capacity;
        if (g.dryRun !== undefined) body.dryRun = g.dryRun;
        return body;
      });
    const deep = {
      doctorIds: fc.oneof(
        fc.array(nasty, { minLength: 1, maxLength: 3 }),
        fc.constant(Array.from({ length: 1001 }, () => 1)),
        fc.constant([w.doctor1, w.doctor1]),
        fc.constant([999_999]),
      ),
      breaks: fc.oneof(
        fc.array(nasty, { maxLength: 3 }),
        fc.array(fc.constantFrom('13:00-12:00', '25:00-26:00', '00:00-24:00', '9-10', '09:00'), { minLength: 1, maxLength: 2 }),
      ),
      from: fc.constantFrom(day(9), day(8), day(376), '0100-01-01', '9999-12-31'),
      to: fc.constantFrom(day(9), day(8), day(376), '0100-01-01', '9999-12-31'),
    };
    return { method: 'POST', path: () => '/slots/generate', fields, valid, deep };
  },

  'POST /slots/import': (w) => {
    const row = fc
      .record({
        doctor: fc.oneof(fc.constantFrom(w.doctor1, w.doctor3), fc.constantFrom(String(w.doctor1), ` ${w.doctor3} `)),
        start: fc.oneof(futureLocal, futureIso),
        length: fc.option(slotLength, { nil: undefined }),
        capacity: fc.option(fc.oneof(fc.integer({ min: 1, max: 100 }), fc.constantFrom('1', '7', ' 3 ')), { nil: undefined }),
      })
      .map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)));
    // The import reads its rows by hand (not with a zod schema), so its rows get more attention.
    const wrongTyped = fc.oneof(
      fc.constantFrom<unknown>(5, 0, -1, 1.5, true, false, [], [`${day(160)} 09:00`], {}, { a: 1 }),
      fc.integer(),
      fc.jsonValue({ maxDepth: 1 }),
    );
    const oddDoctor = fc.constantFrom<unknown>(
      '0',
      '-1',
      '1.0',
      '1e2',
      ' ',
      '',
      '2147483647',
      '2147483648',
      '99999999999',
      '9'.repeat(30),
      `${'0'.repeat(20)}1`,
      '１',
      2 ** 31,
      1e21,
      -5,
    );
    const nastyRow = fc.oneof(
      fc.record({ doctor: nasty, start: nasty, length: nasty, end: nasty, capacity: nasty, line: nasty }, { requiredKeys: [] }),
      fc
        .tuple(row, fc.constantFrom('doctor', 'start', 'length', 'end', 'capacity', 'line'), fc.oneof(nasty, wrongTyped))
        .map(([r, k, v]) => ({ ...r, [k]: v })),
      fc.tuple(row, oddDoctor).map(([r, doctor]) => ({ ...r, doctor })),
      fc.tuple(row, futureLocal).map(([r, end]) => ({ ...r, end })),
      nasty,
    );
    const fields = { rows: fc.array(row, { minLength: 1, maxLength: 4 }), dryRun: fc.boolean() };
    const deep = { rows: fc.array(fc.oneof(row, nastyRow), { minLength: 1, maxLength: 5 }) };
    return { method: 'POST', path: () => '/slots/import', fields, valid: someOf({ rows: fields.rows }, { dryRun: fields.dryRun }), deep };
  },

  'PATCH /slots/:id': (w) => {
    const fields = { start: futureLocal, length: slotLength, end: futureLocal, capacity: fc.integer({ min: 1, max: 100 }), moveBookings: fc.boolean() };
    return { method: 'PATCH', path: (id) => `/slots/${id}`, ids: w.slotUpdatePool, fields, valid: atLeastOne(fields) };
  },

  'POST /slots/:id/restore': (w) => ({ method: 'POST', path: (id) => `/slots/${id}/restore`, ids: w.slotRestorePool, fields: {}, valid: fc.constant({}) }),

  'POST /webhooks': (w) => {
    const fields = {
      url: fc.constantFrom('https://203.0.113.7/hook', 'http://198.51.100.20:8080/in?x=1', 'https://[2001:db8::7]/w'),
      events: fc.oneof(
        fc.subarray(['appointment.booked', 'appointment.cancelled', 'appointment.reminder', 'webhook.disabled'], { minLength: 1 }),
        fc.constant(null),
      ),
      clinicId: fc.constantFrom(w.clinicA, w.clinicB, null),
    };
    const { url, ...optional } = fields;
    return { method: 'POST', path: () => '/webhooks', fields, valid: someOf({ url }, optional), idempotency: true };
  },
  'POST /webhooks/:id/test': (w) => ({ method: 'POST', path: (id) => `/webhooks/${id}/test`, ids: [w.webhook], fields: {}, valid: fc.constant({}) }),
  'POST /webhooks/deliveries/:id/redeliver': (w) => ({
    method: 'POST',
    path: (id) => `/webhooks/deliveries/${id}/redeliver`,
    ids: [w.webhookDelivery],
    fields: {},
    valid: fc.constant({}),
  }),

  'POST /waitlist': (w) => {
    const fields = {
      patientId: fc.constantFrom(w.patient1, w.patient2),
      doctorId: fc.constantFrom(w.doctor1, w.doctor2),
      specialty: fc.constantFrom('neurology', 'Dermatology'),
      city: fc.constantFrom('Berlin', 'Pune'),
      clinicId: fc.constantFrom(w.clinicA, w.clinicB),
      from: fc.constantFrom('today', 'tomorrow', day(10)),
      to: fc.constantFrom('+14d', '+30d', day(40)),
      times: fc.oneof(fc.constantFrom('08:00-12:00', '08:00-12:00,14:00-17:00'), fc.constant(['09:00-10:00'])),
    };
    const { doctorId, from, to, patientId, times } = fields;
    return { method: 'POST', path: () => '/waitlist', fields, valid: someOf({ doctorId, from, to }, { patientId, times }), idempotency: true };
  },
  'POST /waitlist/offers/:id/accept': (w) => ({
    method: 'POST',
    path: (id) => `/waitlist/offers/${id}/accept`,
    ids: w.offers,
    fields: {},
    valid: fc.constant({}),
  }),
  'POST /waitlist/offers/:id/decline': (w) => ({
    method: 'POST',
    path: (id) => `/waitlist/offers/${id}/decline`,
    ids: w.offers,
    fields: {},
    valid: fc.constant({}),
  }),

  'POST /appointments': (w) => {
    const fields = {
      slotId: fc.constantFrom(...w.freeSlots),
      patientId: fc.constantFrom(w.patient1, w.patient2),
      reason: text(1000),
      idempotencyKey: fc.constantFrom('k1', 'k2'),
    };
    const valid = fc
      .record({ slotId: fields.slotId, patientId: fields.patientId, reason: fields.reason }, { requiredKeys: ['slotId'] })
      .map((o) => o as Record<string, unknown>);
    return { method: 'POST', path: () => '/appointments', fields, valid, idempotency: true };
  },

  'POST /appointments/:id/cancel': (w) => {
    const fields = { reason: text(500) };
    // A booked appointment of patient 1 at a time of its own, straight in SQL, for most cases.
    const fresh = async () => {
      for (;;) {
        const at = new Date(Date.parse(utc(14 * 365)) + freshCount++ * 3_600_000).toISOString();
        // Other routes' cases may have put a slot of this doctor there: take the next hour.
        const slot = await seedSlot(db, w.doctorFresh, at, 20, 1).catch((err: { code?: string }) => (err.code === '23P01' ? null : Promise.reject(err)));
        if (slot) return seedBooking(db, slot, w.patient1);
      }
    };
    return { method: 'POST', path: (id) => `/appointments/${id}/cancel`, ids: w.cancelPool, fresh, fields, valid: fc.record(fields, { requiredKeys: [] }) };
  },

  'POST /appointments/:id/reschedule': (w) => {
    const fields = { slotId: fc.constantFrom(...w.freeSlots) };
    return { method: 'POST', path: (id) => `/appointments/${id}/reschedule`, ids: w.reschedulePool, fields, valid: fc.record(fields) };
  },

  'POST /appointments/:id/complete': (w) => {
    const fields = { notes: text(50), status: fc.constant('completed') };
    return { method: 'POST', path: (id) => `/appointments/${id}/complete`, ids: [...w.pastPool.slice(0, 3), w.cancelPool[0]!], fields, valid: fc.constant({}) };
  },

  'POST /appointments/:id/no-show': (w) => {
    const fields = { reason: text(50), status: fc.constant('no_show') };
    return { method: 'POST', path: (id) => `/appointments/${id}/no-show`, ids: [...w.pastPool.slice(3), w.cancelPool[1]!], fields, valid: fc.constant({}) };
  },

  'POST /appointments/:id/notes': (w) => {
    const fields = { text: fc.oneof(fc.string({ minLength: 1, maxLength: 60 }), fc.constant('x'.repeat(5000))) };
    return { method: 'POST', path: (id) => `/appointments/${id}/notes`, ids: w.notesPool, fields, valid: fc.record(fields) };
  },
};

// ---------------------------------------------------------------------------------------------------------
// Cases

type Body =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  | { kind: 'raw'; text: string; contentType: string }
  | { kind: 'bytes'; bytes: number[]; contentType: string };

/** The target id that stands for a fresh one (Spec.fresh), made when the case runs. */
const FRESH = -1;
let freshCount = 0;

interface Case {
  /** The id in the path (FRESH: a new one), or 0 for routes without one. */
  target: number;
  who: 'admin' | 'patient' | 'nobody' | 'forged';
  body: Body;
  idempotencyKey?: string;
}

const RAW_TEXTS = [
  '',
  ' ',
  '{',
  '}',
  '{"a":',
  '{"a":1,}',
  "{'a':1}",
  '{a:1}',
  '[1,2',
  'nul',
  'undefined',
  'NaN',
  '1e999',
  '-',
  '"just a string"',
  '{"a":1}{"b":2}',
  '{"a":1} trailing',
  '\u0000',
  '{"a":"\u0000"}',
  '\uFEFF{}',
  '{"a":"\\ud800"}',
  '{"a":"\\u0000"}',
  '{"__proto__":{"isAdmin":true}}',
  '{"constructor":{"prototype":{"isAdmin":true}}}',
  '{"name":"a","name":1}',
  '['.repeat(20_000),
  '['.repeat(20_000) + ']'.repeat(20_000),
  `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`,
  `{"x":"${'y'.repeat(101 * 1024)}"}`,
  '<?xml version="1.0"?><a/>',
  'email=a%40b.c&password=x',
];

const RAW_CONTENT_TYPES = [
  'application/json',
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  'application/problem+json',
  'application/x-www-form-urlencoded',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/json, text/plain',
];

const rawBody: fc.Arbitrary<Body> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('raw' as const), text: fc.constantFrom(...RAW_TEXTS), contentType: fc.constant('application/json') }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('raw' as const),
      text: fc.string({ unit: 'binary', maxLength: 60 }),
      contentType: fc.constant('application/json'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('raw' as const),
      text: fc.jsonValue({ maxDepth: 2 }).map((v) => `${JSON.stringify(v) ?? ''}}`),
      contentType: fc.constant('application/json'),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('raw' as const),
      text: fc.oneof(
        fc.constantFrom(...RAW_TEXTS),
        fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? 'null'),
      ),
      contentType: fc.constantFrom(...RAW_CONTENT_TYPES),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('bytes' as const),
      bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }),
      contentType: fc.constant('application/json'),
    }),
  },
);

/** Form bodies reach the services as strings (the login form is why the parser exists). */
function formOf(fields: string[]): fc.Arbitrary<Body> {
  const value = fc.oneof(fc.constantFrom(...NASTY_STRINGS.filter((s) => s.length < 200)), fc.string({ maxLength: 20 }));
  return fc
    .dictionary(fc.oneof(fc.constantFrom(...(fields.length ? fields : ['a'])), fc.string({ maxLength: 6 })), value, { maxKeys: 4 })
    .map((o) => ({ kind: 'raw' as const, text: new URLSearchParams(o).toString(), contentType: 'application/x-www-form-urlencoded' }));
}

function bodyArb(spec: Spec): fc.Arbitrary<Body> {
  const keys = Object.keys(spec.fields);
  const extraKeys = ['extra', 'id', 'isActive', 'role', 'idempotencyKey', '__proto__', 'constructor', 'toString', ''];
  const json = (a: fc.Arbitrary<unknown>): fc.Arbitrary<Body> => a.map((value) => ({ kind: 'json' as const, value }));
  const withNasty = Object.fromEntries(keys.map((k) => [k, fc.oneof({ weight: 3, arbitrary: nasty }, { weight: 1, arbitrary: spec.fields[k]! })]));
  const deepFor = (key: string) => (spec.deep && Object.hasOwn(spec.deep, key) ? spec.deep[key] : undefined);
  // Mostly the route's own fields; sometimes a field it does not have.
  const keyArb = keys.length
    ? fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: fc.constantFrom(...extraKeys) })
    : fc.constantFrom(...extraKeys);
  const mutated = fc.tuple(spec.valid, keyArb).chain(([base, key]) => {
    const deep = deepFor(key);
    // The field's valid value (the base's, or a fresh one when the base left it out), to spoil subtly.
    const good = Object.hasOwn(base, key) ? fc.constant(base[key]) : Object.hasOwn(spec.fields, key) ? spec.fields[key] : undefined;
    const change = fc.oneof(
      { weight: 3, arbitrary: nasty.map((v) => ({ op: 'set' as const, v })) },
      ...(good ? [{ weight: 6, arbitrary: good.chain(tainted).map((v) => ({ op: 'set' as const, v })) }] : []),
      ...(deep ? [{ weight: 6, arbitrary: deep.map((v) => ({ op: 'set' as const, v })) }] : []),
      { weight: 1, arbitrary: fc.constant({ op: 'delete' as const, v: undefined as unknown }) },
    );
    return change.map(({ op, v }) => {
      const copy: Record<string, unknown> = { ...base };
      if (op === 'delete') delete copy[key];
      else Object.defineProperty(copy, key, { value: v, enumerable: true, writable: true, configurable: true });
      return copy;
    });
  });
  return fc.oneof(
    // (a) any JSON at all as the body
    { weight: 2, arbitrary: json(fc.jsonValue({ maxDepth: 3 })) },
    { weight: 1, arbitrary: json(fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' })) },
    {
      weight: 1,
      arbitrary: json(fc.dictionary(fc.oneof(fc.constantFrom(...keys, 'x'), fc.string({ maxLength: 8 })), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 })),
    },
    // (b) the route's field names, with wrong or extreme values
    ...(keys.length ? [{ weight: 4, arbitrary: json(fc.record(withNasty, { requiredKeys: [] })) }] : []),
    // (c) valid bodies with one field changed, removed or added; and valid bodies as they are
    { weight: 8, arbitrary: json(mutated) },
    { weight: 2, arbitrary: json(spec.valid) },
    // (d) no body, raw text, forms
    { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
    { weight: 3, arbitrary: rawBody },
    { weight: 1, arbitrary: formOf(keys) },
  );
}

function caseArb(spec: Spec): fc.Arbitrary<Case> {
  const target = spec.ids?.length
    ? fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...spec.ids) }, ...(spec.fresh ? [{ weight: 24, arbitrary: fc.constant(FRESH) }] : []), {
        weight: 1,
        arbitrary: fc.constantFrom(999_999, 2_147_483_647),
      })
    : fc.constant(0);
  const who = spec.public
    ? fc.constantFrom<Case['who']>('nobody', 'nobody', 'admin', 'forged')
    : fc.oneof(
        { weight: 12, arbitrary: fc.constant<Case['who']>('admin') },
        { weight: 5, arbitrary: fc.constant<Case['who']>('patient') },
        { weight: 1, arbitrary: fc.constantFrom<Case['who']>('nobody', 'forged') },
      );
  const key = spec.idempotency
    ? fc.option(fc.oneof(fc.constantFrom('k1', 'k2', ' ', 'x'.repeat(300)), fc.stringMatching(/^[A-Za-z0-9-]{1,20}$/)), { nil: undefined, freq: 3 })
    : fc.constant(undefined);
  return fc
    .record({ target, who, body: bodyArb(spec), idempotencyKey: key })
    .map((c) => (c.idempotencyKey === undefined ? { target: c.target, who: c.who, body: c.body } : c));
}

// ---------------------------------------------------------------------------------------------------------
// Sending a case and judging the reply

interface Reply {
  status: number;
  contentType: string;
  text: string;
  body: unknown;
  /** How the reply breaks the API contract (test/support/api/contract.ts), if it does. */
  violations: string[];
}

/** A token of a new session of the user (and role) `token` names. */
async function sessionLike(token: string): Promise<string> {
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
  return (await sessionFor(db, { id: Number(claims.sub), role: claims.role })).accessToken;
}

async function send(method: string, path: string, c: Case, ownSession = false): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (c.who === 'admin') headers.authorization = `Bearer ${ownSession ? await sessionLike(w.admin) : w.admin}`;
  if (c.who === 'patient') headers.authorization = `Bearer ${ownSession ? await sessionLike(w.patient) : w.patient}`;
  if (c.who === 'forged') headers.authorization = `Bearer ${w.admin.slice(0, -4)}AAAA`;
  if (c.idempotencyKey !== undefined) headers['idempotency-key'] = c.idempotencyKey;
  let body: string | Uint8Array | undefined;
  if (c.body.kind === 'json') {
    body = JSON.stringify(c.body.value);
    headers['content-type'] = 'application/json';
  } else if (c.body.kind === 'raw') {
    body = c.body.text;
    headers['content-type'] = c.body.contentType;
  } else if (c.body.kind === 'bytes') {
    body = Uint8Array.from(c.body.bytes);
    headers['content-type'] = c.body.contentType;
  }
  const response = await fetch(`${server.url}/api/v1${path}`, { method, headers, body });
  const text = await response.text();
  const contentType = response.headers.get('content-type');
  const violations = (await contractOf(server.url))?.violations({ method, path: `/api/v1${path}`, status: response.status, contentType, text }) ?? [];
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: response.status, contentType: contentType ?? '', text, body: parsed, violations };
}

/** What is wrong with a reply, or null when it is a success or a proper problem+json refusal. */
function fault(reply: Reply): string | null {
  if (reply.status >= 500) return `a ${reply.status}`;
  if (reply.violations.length) return `a reply outside the API contract: ${reply.violations.join('; ')}`;
  if (reply.status >= 200 && reply.status < 300) return null;
  if (reply.status < 400) return `a ${reply.status} (neither a success nor a client error)`;
  if (!/^application\/problem\+json\b/.test(reply.contentType))
    return `a ${reply.status} with content-type "${reply.contentType}", not application/problem+json`;
  const p = reply.body as Record<string, unknown> | null;
  if (!p || typeof p !== 'object') return `a ${reply.status} whose body is not a JSON object`;
  const missing = (['type', 'title', 'detail'] as const).filter((k) => typeof p[k] !== 'string' || !(p[k] as string).length);
  if (missing.length) return `a ${reply.status} problem without ${missing.join(', ')}`;
  if (p.status !== reply.status) return `a ${reply.status} problem whose status says ${JSON.stringify(p.status)}`;
  return null;
}

const clip = (s: string, n = 600) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

function describeBody(b: Body): string {
  switch (b.kind) {
    case 'none':
      return '(no body)';
    case 'json':
      return `application/json ${clip(JSON.stringify(b.value) ?? 'undefined')}`;
    case 'raw':
      return `${b.contentType} raw ${clip(JSON.stringify(b.text))}`;
    case 'bytes':
      return `${b.contentType} bytes [${b.bytes.join(',')}]`;
  }
}

const tally = new Map<string, Map<number, number>>();

async function check(name: string, spec: Spec, c: Case): Promise<void> {
  const path = spec.path(c.target === FRESH ? await spec.fresh!() : c.target);
  const logsBefore = server.logs.length;
  let reply: Reply;
  try {
    reply = await send(spec.method, path, c, spec.ownSession);
  } catch (err) {
    throw new Error(
      `${spec.method} /api/v1${path} as ${c.who}, body ${describeBody(c.body)}: the request failed (${(err as Error).message}; the server may have crashed)`,
    );
  }
  const counts = tally.get(name) ?? new Map<number, number>();
  counts.set(reply.status, (counts.get(reply.status) ?? 0) + 1);
  tally.set(name, counts);
  const wrong = fault(reply);
  if (!wrong) return;
  const errors = server.logs
    .slice(logsBefore)
    .filter((l) => Number(l.level) >= 50)
    .map((l) => {
      const err = l.err as { type?: string; message?: string; code?: string; stack?: string } | undefined;
      return err
        ? `${err.type ?? 'Error'}${err.code ? ` [${err.code}]` : ''}: ${err.message}\n${(err.stack ?? '').split('\n').slice(1, 6).join('\n')}`
        : JSON.stringify(l);
    });
  throw new Error(
    [
      `${spec.method} /api/v1${path}${c.target === FRESH ? ' (a fresh booked appointment)' : ''} as ${c.who}${c.idempotencyKey !== undefined ? ` (Idempotency-Key ${JSON.stringify(c.idempotencyKey)})` : ''}`,
      `body: ${describeBody(c.body)}`,
      `answered ${wrong}: ${clip(reply.text)}`,
      ...(errors.length ? ['server log:', ...errors] : []),
    ].join('\n'),
  );
}

// ---------------------------------------------------------------------------------------------------------

describe('fuzzing the JSON bodies of every POST, PATCH and PUT route', () => {
  it('covers every body-taking route of the API (as the OpenAPI document lists them)', async () => {
    const openapi = await api(server.url, 'GET', '/openapi.json');
    const served: string[] = [];
    for (const [path, operations] of Object.entries(openapi.body.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(operations)) {
        if (['post', 'patch', 'put'].includes(method)) served.push(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
      }
    }
    expect(Object.keys(ROUTES).sort()).toEqual(served.sort());
    expect(served.length).toBeGreaterThanOrEqual(24);
  });

  for (const name of Object.keys(ROUTES)) {
    it(`${name}: never a 5xx; every refusal a 4xx problem+json`, async () => {
      const spec = ROUTES[name]!(w);
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(caseArb(spec), async (c) => {
          runs++;
          await check(name, spec, c);
        }),
        { numRuns: NUM_RUNS, seed: SEED },
      );
      expect(runs).toBeGreaterThanOrEqual(NUM_RUNS);
    }, 120_000);
  }

  afterAll(() => {
    if (!process.env.FUZZ_STATS) return;
    for (const [name, counts] of tally) {
      console.info(
        `${name}: ${[...counts]
          .sort((a, b) => a[0] - b[0])
          .map(([s, n]) => `${s}×${n}`)
          .join(' ')}`,
      );
    }
  });
});
