import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import { parseSeedFile, seed } from '../../src/services/seed.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { SYSTEM } from '../../src/domain/roles.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('seed accepted the file'),
    (err: unknown) => err as ValidationError,
  );
const clinics = async () => (await db.sql<{ count: string }>('select count(*) from clinic'))[0]!.count;

describe('seed with hostile keys', () => {
  it('a __proto__ key in a clinic is an unknown field, not dropped unseen', async () => {
    const file = JSON.parse('{"clinics": [{"name": "Proto", "city": "Bhopal", "timezone": "Asia/Kolkata", "__proto__": {"isActive": false}}]}');
    const err = await refusal(seed(db.ctx(SYSTEM), file));
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.issues).toEqual([{ field: 'clinics[0].__proto__', message: 'is not a known field' }]);
    expect(await clinics()).toBe('0');
  });

  it("a constructor key in a clinic is named as written, not as Object's constructor", async () => {
    const err = await refusal(seed(db.ctx(SYSTEM), { clinics: [{ name: 'Ctor', city: 'Bhopal', timezone: 'Asia/Kolkata', constructor: 1 }] }));
    expect(err.issues).toEqual([{ field: 'clinics[0].constructor', message: 'is not a known field' }]);
  });

  it('an unknown top-level name is told in the message, where no edge takes it for a flag', async () => {
    const err = await refusal(seed(db.ctx(SYSTEM), JSON.parse('{"clinics": [], "__proto__": 1}')));
    expect(err.issues).toEqual([{ field: '', message: '__proto__: is not a known field' }]);
  });

  it('parsing keeps __proto__ a plain key: no object gains a prototype', () => {
    const data = parseSeedFile(
      Buffer.from('clinics:\n  - __proto__: { polluted: yes }\n    constructor: { prototype: { polluted: yes } }\n'),
      'yaml',
    ) as unknown as {
      clinics: object[];
    };
    const [clinic] = data.clinics;
    expect(Object.getPrototypeOf(clinic)).toBe(Object.prototype);
    expect(Object.keys(clinic!)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
