// The API contract as a client developer meets it: the served /openapi.json passes redocly lint with no error
// and no warning, describes every operation fully, and the typed client's types (test/support/api/schema.d.ts)
// are exactly what it generates today; and the checker every HTTP test runs (test/support/api/contract.ts)
// does refuse what breaks the contract.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiTypes, SCHEMA_FILE } from '../support/api/types.js';
import { Contract, type OpenApiDocument } from '../support/api/contract.js';
import { api, serverWithAdminPerFile } from '../support/http.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const w = serverWithAdminPerFile();

let document: OpenApiDocument & Record<string, unknown>;
let dir: string;
beforeAll(async () => {
  document = (await api(w.url, 'GET', '/openapi.json')).body;
  dir = mkdtempSync(join(tmpdir(), 'ascend-contract-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const operations = () =>
  Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item).map(([method, operation]) => ({ path, method, operation })));

describe('the OpenAPI document', () => {
  it('passes redocly lint (the repository’s redocly.yaml) with no error and no warning', async () => {
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(document));
    const lint = await run('npx', ['--no-install', 'redocly', 'lint', file, '--config', join(root, 'redocly.yaml'), '--format', 'json'], {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
    }).catch((err: { stdout: string; stderr: string }) => err);
    const report = JSON.parse(lint.stdout.slice(lint.stdout.indexOf('{'))) as { totals: { errors: number; warnings: number }; problems: unknown[] };
    expect(report.problems, lint.stderr).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  }, 60_000);

  it('names its server, its license, and the bearer and OAuth 2 password schemes', () => {
    expect(document.servers).toEqual([expect.objectContaining({ url: '/api/v1' })]);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(document.info).toMatchObject({ license: { name: pkg.license } });
    const schemes = (document.components as { securitySchemes: Record<string, unknown> }).securitySchemes;
    expect(schemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(schemes.oauth2).toMatchObject({ type: 'oauth2', flows: { password: { tokenUrl: '/api/v1/auth/login' } } });
    const login = document.paths['/auth/login']?.post as unknown as { requestBody: { content: Record<string, unknown> } };
    expect(Object.keys(login.requestBody.content).sort()).toEqual(['application/json', 'application/x-www-form-urlencoded']);
  });

  it('gives every operation a unique operationId, a success schema, and problem+json (the Problem schema) for every 4xx', () => {
    const ids = operations().map((o) => o.operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    for (const { path, method, operation } of operations()) {
      const statuses = Object.keys(operation.responses);
      const success = statuses.filter((s) => s.startsWith('2'));
      expect(success, `${method} ${path}`).toHaveLength(1);
      const [ok] = success;
      if (ok !== '204') expect(Object.values(operation.responses[ok ?? '']?.content ?? {})[0]?.schema, `${method} ${path}`).toBeDefined();
      for (const status of statuses.filter((s) => /^[45]/.test(s))) {
        expect(operation.responses[status]?.content, `${method} ${path} ${status}`).toEqual({
          'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
        });
      }
      expect(statuses, `${method} ${path}`).toContain('422');
    }
  });

  it('documents 401 on every route that needs a token, 404 where a path names a record, and 429 on login', () => {
    for (const { path, method, operation } of operations()) {
      const statuses = Object.keys(operation.responses);
      const isPublic = Array.isArray((operation as { security?: unknown[] }).security);
      if (!isPublic) expect(statuses, `${method} ${path}`).toContain('401');
      if (path.includes('{')) expect(statuses, `${method} ${path}`).toContain('404');
    }
    expect(Object.keys(document.paths['/auth/login']?.post?.responses ?? {})).toEqual(expect.arrayContaining(['401', '429']));
  });

  it('takes the Idempotency-Key header on every POST that creates something (each answering 201)', () => {
    const creates = operations().filter((o) => o.method === 'post' && '201' in o.operation.responses);
    expect(creates.map((o) => o.operation.operationId).sort()).toEqual(
      [
        'addLeave',
        'bookAppointment',
        'createClinic',
        'createDoctor',
        'createPatient',
        'createSlot',
        'createUser',
        'createWebhook',
        'joinWaitlist',
        'register',
      ].sort(),
    );
    for (const { operation } of creates) {
      const parameters = (operation as { parameters?: { in: string; name: string }[] }).parameters ?? [];
      expect(parameters, operation.operationId).toContainEqual(expect.objectContaining({ in: 'header', name: 'Idempotency-Key' }));
    }
  });

  it('shares its views as named components (AppointmentView, SlotView, …) rather than copies', () => {
    const schemas = (document.components as { schemas: Record<string, unknown> }).schemas;
    expect(Object.keys(schemas)).toEqual(expect.arrayContaining(['AppointmentView', 'SlotView', 'DoctorView', 'PatientView', 'UserRecordsView', 'Problem']));
    expect(document.paths['/appointments/{id}']?.get?.responses['200']?.content?.['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/AppointmentView',
    });
  });
});

describe('the typed client', () => {
  // toMatchFileSnapshot: a difference fails (in CI and locally); `npm run api:types` (vitest -u) writes the file.
  it('has its types (test/support/api/schema.d.ts) exactly as the served document generates them', async () => {
    await expect(await apiTypes(document), 'the API changed: run `npm run api:types` and commit the file').toMatchFileSnapshot(join(root, SCHEMA_FILE));
  });
});

describe('the contract checker every HTTP test runs', () => {
  const received = { method: 'GET', path: '/api/v1/clinics/1', contentType: 'application/json' };

  it('accepts a response its operation documents', async () => {
    const contract = new Contract(document);
    const clinic = (await api(w.url, 'POST', '/api/v1/clinics', { token: w.adminToken, body: { name: 'Contract', city: 'Lisbon', timezone: 'Europe/Lisbon' } }))
      .body;
    expect(contract.violations({ ...received, status: 200, text: JSON.stringify(clinic) })).toEqual([]);
  });

  it('refuses a field the schema lacks, a missing field, a wrong type, an undocumented status and another media type', async () => {
    const contract = new Contract(document);
    const clinic = (await api(w.url, 'GET', '/api/v1/clinics?limit=1', { token: w.adminToken })).body.items[0];
    const { city: _city, ...withoutCity } = clinic;
    const cases = [
      { status: 200, text: JSON.stringify({ ...clinic, secret: 'x' }), says: /must NOT have additional properties/ },
      { status: 200, text: JSON.stringify(withoutCity), says: /must have required property 'city'/ },
      { status: 200, text: JSON.stringify({ ...clinic, id: '1' }), says: /\/id must be integer/ },
      { status: 201, text: JSON.stringify(clinic), says: /a status its contract does not document/ },
      { status: 200, text: JSON.stringify(clinic), contentType: 'text/html', says: /as text\/html, where its contract says application\/json/ },
      { status: 404, text: JSON.stringify({ title: 'Not found' }), contentType: 'application/problem+json', says: /must have required property 'type'/ },
    ];
    for (const { says, ...c } of cases) {
      const violations = contract.violations({ ...received, ...c });
      expect(violations.join('\n'), JSON.stringify(c)).toMatch(says);
    }
  });
});
