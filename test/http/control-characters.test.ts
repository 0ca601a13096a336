// Control characters over HTTP: refused in every text a caller sends (422 naming the field), and never inside a
// calendar property, even when the database holds them (rows written by psql or before the rule).
import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import { makeClinic, makeDoctor, makePatient, seedBooking, seedSlot, tokenFor } from '../support/fixtures.js';
import { api, serverWithAdminPerFile } from '../support/http.js';
import { day } from '../support/clock.js';

const w = serverWithAdminPerFile();

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('text input over HTTP', () => {
  it('registration refuses a name with ESC ] 0; … BEL (a terminal title change): 422 naming the field, nothing stored', async () => {
    const res = await api(w.url, 'POST', '/api/v1/auth/register', {
      body: { email: 'eve@example.org', name: 'Eve\u001b]0;pwned\u0007', password: 'An0ther-pass!' },
    });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ field: 'name', detail: 'name: must not contain control characters (found U+001B)' });
    expect(await w.db.sql(`select id from "user" where email = 'eve@example.org'`)).toEqual([]);
  });

  it.each([
    ['name', 'Pat\rDoe', 'U+000D'],
    ['name', 'Pat\u009b2JDoe', 'U+009B'],
    ['emergencyContact', 'Mum\n+91 98765 43210', 'U+000A'],
    ['address', '12 Main Road\rFlat 3', 'U+000D'],
    ['allergies', 'penicillin\u0007', 'U+0007'],
  ])('PATCH /patients/{id} refuses %s holding %j, naming the field', async (field, value, code) => {
    const { patient } = await makePatient(w.db);
    const res = await api(w.url, 'PATCH', `/api/v1/patients/${patient.id}`, { token: w.adminToken, body: { [field]: value } });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ field, detail: `${field}: must not contain control characters (found ${code})` });
  });

  it('multi-line fields take LF, and CRLF is stored as LF', async () => {
    const { patient } = await makePatient(w.db);
    const res = await api(w.url, 'PATCH', `/api/v1/patients/${patient.id}`, {
      token: w.adminToken,
      body: { address: '12 Main Road\r\nFlat 3', allergies: 'penicillin\nlatex' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ address: '12 Main Road\nFlat 3', allergies: 'penicillin\nlatex' });
  });

  it('query strings too: a search or a date filter with a control character is a 422 naming it', async () => {
    const search = await api(w.url, 'GET', '/api/v1/doctors?search=%1B%5B2J', { token: w.adminToken });
    expect(search.status).toBe(422);
    expect(search.body).toMatchObject({ field: 'search', detail: 'search: must not contain control characters (found U+001B)' });
    const from = await api(w.url, 'GET', `/api/v1/appointments?from=${day(9)}%0D09:00`, { token: w.adminToken });
    expect(from.status).toBe(422);
    expect(from.body).toMatchObject({ field: 'from', detail: 'from: must not contain control characters (found U+000D)' });
  });

  it('refuses bidi overrides in names (a name that draws as another)', async () => {
    const res = await api(w.url, 'POST', '/api/v1/clinics', {
      token: w.adminToken,
      body: { name: 'Lake \u202eCinilc', city: 'Pune', timezone: 'Asia/Kolkata' },
    });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ field: 'name', detail: 'name: must not contain bidirectional override or isolate characters (found U+202E)' });
  });
});

describe('the iCalendar export', () => {
  it('round-trips hostile text through a real parser (ical.js), with no control character inside any property', async () => {
    const clinic = await makeClinic(w.db, { name: 'Lake Clinic', city: 'Bhopal' });
    const { doctor } = await makeDoctor(w.db, clinic.id);
    const { patient } = await makePatient(w.db);
    const starts = [`${day(42)}T04:00:00.000Z`, `${day(43)}T04:00:00.000Z`, `${day(44)}T04:00:00.000Z`];
    const ids: number[] = [];
    for (const start of starts) ids.push(await seedBooking(w.db, await seedSlot(w.db, doctor.id, start, 20), patient.id));
    // Written as psql could write them: the input rules never saw them.
    const longName = `Dr ${'Ünïcødé 😀 '.repeat(20)}`.slice(0, 200);
    await w.db.sql(`update "user" set name = $1 where id = $2`, [longName, doctor.userId]);
    await w.db.sql(`update "user" set name = $1 where id = $2`, ["Eve \u001b]0;pwned\u0007 \u001b[2J O'Brien, Jr; C:\\temp \u009b31m", patient.userId]);
    await w.db.sql(`update clinic set name = $1 where id = $2`, ['Lake, Clinic; "East" \\ wing\r\nBlock B', clinic.id]);
    const reasons = ['line one\r\nline two\rbare CR\nthree', 'commas, semicolons; backslashes \\ and \\n literally', 'emoji 😀🏥 and tab\there'];
    for (const [i, id] of ids.entries()) await w.db.sql(`update appointment set reason = $1 where id = $2`, [reasons[i], id]);

    const token = await tokenFor(w.db, { id: patient.userId, role: 'patient' });
    const res = await api(w.url, 'GET', '/api/v1/appointments.ics', { token });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/calendar/);

    // Lines end in CRLF, no bare CR or LF, no other control character, and none longer than 75 octets.
    const lines = res.text.split('\r\n');
    expect(lines.at(-1)).toBe('');
    for (const line of lines) {
      expect(line).not.toMatch(/[\r\n]/);
      expect(line).not.toMatch(CONTROL);
      expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
    }

    // ical.js (Mozilla's parser, Thunderbird's): node-ical reads an escaped backslash before n as a line break.
    const events = new ICAL.Component(ICAL.parse(res.text)).getAllSubcomponents('vevent').map((v) => new ICAL.Event(v));
    expect(events).toHaveLength(3);
    const shown = (text: string) =>
      text.replace(/\r\n/g, '\n').replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    for (const [i, id] of ids.entries()) {
      const event = events.find((e) => e.uid === `appointment-${id}@ascend`);
      if (!event) throw new Error(`no VEVENT for appointment ${id}`);
      expect(event.startDate.toJSDate().toISOString()).toBe(starts[i]);
      expect(event.endDate.toJSDate().toISOString()).toBe(new Date(Date.parse(starts[i]!) + 20 * 60_000).toISOString());
      expect(event.summary).toBe(`Appointment with ${longName}`);
      expect(event.location).toBe(shown('Lake, Clinic; "East" \\ wing\r\nBlock B'));
      expect(event.description).toBe(
        shown(`Patient: Eve \u001b]0;pwned\u0007 \u001b[2J O'Brien, Jr; C:\\temp \u009b31m\nReason: ${reasons[i]}\nStatus: booked`),
      );
      for (const value of [event.summary, event.location, event.description]) expect(String(value)).not.toMatch(CONTROL);
    }
  });
});
