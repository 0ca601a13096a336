// The rule on characters in text from people, proved on every text field of every input schema: the walk
// below finds each string a schema takes (inside optional, nullable, default, pipe, union and array), so a
// field added later without the rule fails here.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as appointments from '../../src/domain/schemas/appointments.js';
import * as clinics from '../../src/domain/schemas/clinics.js';
import * as doctors from '../../src/domain/schemas/doctors.js';
import * as patients from '../../src/domain/schemas/patients.js';
import { updateProfileInput } from '../../src/domain/schemas/profile.js';
import * as slots from '../../src/domain/schemas/slots.js';
import * as users from '../../src/domain/schemas/users.js';
import { joinWaitlistInput, listWaitlistInput } from '../../src/domain/schemas/waitlist.js';
import { createWebhookInput, listDeliveriesInput } from '../../src/domain/schemas/webhooks.js';
import { showControls, escapeJsonText } from '../../src/domain/text.js';
import { fieldIssues } from '../../src/domain/validation.js';

interface TextField {
  /** `schemaName.field`, as a person would find it. */
  name: string;
  schema: z.ZodType;
}

/** Every string-taking field below a schema, with the schema that judges that field's value. */
function textFields(schema: z.ZodType, name: string, field: z.ZodType = schema): TextField[] {
  if (schema instanceof z.ZodObject) {
    return Object.entries(schema.shape as Record<string, z.ZodType>).flatMap(([key, value]) => textFields(value, `${name}.${key}`));
  }
  if (schema instanceof z.ZodArray) return textFields(schema.element as z.ZodType, `${name}[]`);
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable || schema instanceof z.ZodDefault) {
    return textFields(schema.unwrap() as z.ZodType, name, field);
  }
  if (schema instanceof z.ZodPipe) return textFields(schema.in as z.ZodType, name, field);
  if (schema instanceof z.ZodUnion) {
    const found = (schema.options as z.ZodType[]).flatMap((option) => textFields(option, name, field));
    return found.length ? [{ name, schema: field }] : [];
  }
  if (schema instanceof z.ZodString) return [{ name, schema: field }];
  return [];
}

// profile.ts, waitlist.ts and webhooks.ts also hold response shapes (views), which are not input: their input schemas alone.
const modules = {
  appointments,
  clinics,
  doctors,
  patients,
  slots,
  users,
  profile: { updateProfileInput },
  waitlist: { joinWaitlistInput, listWaitlistInput },
  webhooks: { createWebhookInput, listDeliveriesInput },
};
// Response shapes kept beside their inputs (publicClinicView, updatedSlotView …) are output, not input: left out by name.
const FIELDS: TextField[] = Object.values(modules).flatMap((module) =>
  Object.entries(module).flatMap(([exported, value]) => (value instanceof z.ZodObject && !exported.endsWith('View') ? textFields(value, exported) : [])),
);

/** The first message a field's schema gives for a value, or null when it takes it. */
function refusal(field: TextField, value: string): string | null {
  const result = field.schema.safeParse(value);
  return result.success ? null : fieldIssues(result.error)[0]!.message;
}

const PASSWORDS = [
  'changePasswordInput.currentPassword',
  'changePasswordInput.newPassword',
  'createDoctorInput.password',
  'createPatientInput.password',
  'createUserInput.password',
  'initInput.adminPassword',
  'loginInput.password',
  'registerInput.password',
];
const MULTI_LINE = [
  'bookInput.reason',
  'seriesInput.reason',
  'cancelInput.reason',
  'cancelBody.reason',
  'noteInput.text',
  'createClinicInput.address',
  'updateClinicInput.address',
  'createDoctorInput.qualifications',
  'updateDoctorInput.qualifications',
  'updateProfileInput.address',
  'updateProfileInput.qualifications',
  'addLeaveInput.reason',
  'createPatientInput.allergies',
  'createPatientInput.address',
  'registerInput.allergies',
  'registerInput.address',
  'updatePatientInput.allergies',
  'updatePatientInput.address',
  'createUserInput.address',
  'updateUserInput.address',
];

describe('control characters in text input', () => {
  it('finds the text fields of every input schema', () => {
    expect(FIELDS.length).toBeGreaterThan(80);
    for (const name of [
      'registerInput.name',
      'updatePatientInput.address',
      'importRow.doctor',
      'setHoursInput.windows[].start',
      'generateSlotsInput.breaks[]',
      'bookInput.idempotencyKey',
      'loginInput.email',
    ]) {
      expect(FIELDS.map((f) => f.name)).toContain(name);
    }
  });

  it.each([
    ['NUL', '\u0000', 'U+0000'],
    ['BEL', '\u0007', 'U+0007'],
    ['TAB', '\t', 'U+0009'],
    ['CR', '\r', 'U+000D'],
    ['ESC', '\u001b', 'U+001B'],
    ['DEL', '\u007f', 'U+007F'],
    ['C1 NEL', '\u0085', 'U+0085'],
    ['C1 CSI', '\u009b', 'U+009B'],
  ])('every text field but passwords refuses %s inside the text, naming the character', (_name, ch, code) => {
    const taken = FIELDS.filter((f) => refusal(f, `Ab${ch}cd`) !== `must not contain control characters (found ${code})`).map((f) => f.name);
    expect(taken.sort()).toEqual([...PASSWORDS].sort());
  });

  it('LF only in the multi-line fields (addresses, allergies, qualifications, reasons, notes)', () => {
    const single = FIELDS.filter((f) => !PASSWORDS.includes(f.name) && !MULTI_LINE.includes(f.name));
    expect(single.filter((f) => refusal(f, 'Ab\ncd') !== 'must not contain control characters (found U+000A)').map((f) => f.name)).toEqual([]);
    const multi = FIELDS.filter((f) => MULTI_LINE.includes(f.name));
    expect(multi.map((f) => f.name).sort()).toEqual([...MULTI_LINE].sort());
    for (const field of multi) expect(field.schema.parse('Flat 2\nMain Road')).toBe('Flat 2\nMain Road');
  });

  it('reads CRLF as LF in multi-line fields, and refuses a lone CR there', () => {
    for (const field of FIELDS.filter((f) => MULTI_LINE.includes(f.name))) {
      expect(field.schema.parse('Flat 2\r\nMain Road\r\n')).toBe('Flat 2\nMain Road');
      expect(refusal(field, 'Flat 2\rMain Road')).toBe('must not contain control characters (found U+000D)');
    }
  });

  it('every text field but passwords refuses bidi overrides and isolates (Trojan Source), but not the RTL marks', () => {
    for (const ch of ['\u202a', '\u202e', '\u2066', '\u2069']) {
      const code = `U+${ch.charCodeAt(0).toString(16).toUpperCase()}`;
      const taken = FIELDS.filter((f) => refusal(f, `Ab${ch}cd`) !== `must not contain bidirectional override or isolate characters (found ${code})`);
      expect(taken.map((f) => f.name).sort()).toEqual([...PASSWORDS].sort());
    }
    expect(users.createUserInput.shape.name.parse('\u05e9\u05dc\u05d5\u05dd\u200f Cohen')).toBe('\u05e9\u05dc\u05d5\u05dd\u200f Cohen');
  });

  it('names the field in the issue of a whole input', () => {
    const result = patients.registerInput.safeParse({
      email: 'eve@example.org',
      name: 'Eve\u001b]0;pwned\u0007',
      password: 'Good-pass-123',
      address: 'a\u009bb',
    });
    expect(fieldIssues(result.error!)).toEqual([
      { field: 'name', message: 'must not contain control characters (found U+001B)' },
      { field: 'address', message: 'must not contain control characters (found U+009B)' },
    ]);
  });
});

describe('control characters in text output', () => {
  it('shows every control character and bidi override as a \\u escape, keeping LF or making it a space', () => {
    const hostile = 'Eve\u001b]0;pwned\u0007\u001b[2J\rX\u009b31m\u007f\t\u202eY\nZ';
    expect(showControls(hostile)).toBe('Eve\\u001b]0;pwned\\u0007\\u001b[2J\\u000dX\\u009b31m\\u007f\\u0009\\u202eY\nZ');
    expect(showControls(hostile, 'space')).toBe('Eve\\u001b]0;pwned\\u0007\\u001b[2J\\u000dX\\u009b31m\\u007f\\u0009\\u202eY Z');
    expect(showControls('Zoë Ångström 李小龙 😀 \u05e9\u05dc\u05d5\u05dd')).toBe('Zoë Ångström 李小龙 😀 \u05e9\u05dc\u05d5\u05dd');
  });

  it('escapes DEL, C1, U+2028/2029 and bidi overrides in JSON text, which still parses to the same value', () => {
    const value = { name: 'a\u007fb\u009bc\u2028d\u2029e\u202ef\u001bg' };
    const text = escapeJsonText(JSON.stringify(value));
    expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    expect(JSON.parse(text)).toEqual(value);
  });
});
