import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startServerWithAdmin, type TestServer } from '../support/http.js';

let server: TestServer;
let stop: () => Promise<void>;
beforeAll(async () => {
  ({ server, stop } = await startServerWithAdmin());
});
afterAll(() => stop());

describe('the server', () => {
  it('answers /health and /ready, serves the OpenAPI 3.1 document and the docs page', async () => {
    expect((await api(server.url, 'GET', '/health')).body).toEqual({ status: 'ok' });
    expect((await api(server.url, 'GET', '/ready')).body).toEqual({ status: 'ready' });
    const openapi = await api(server.url, 'GET', '/openapi.json');
    expect(openapi.body.openapi).toBe('3.1.0');
    expect(openapi.body.servers).toEqual([expect.objectContaining({ url: '/api/v1' })]);
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(['/appointments', '/slots/free', '/auth/login']));
    expect(openapi.body.paths['/clinics'].post.requestBody.content['application/json'].schema.properties.timezone).toBeDefined();
    const docs = await fetch(`${server.url}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });

  it('logs in (OAuth 2 shape, JSON or form) and writes one log line per request without secrets', async () => {
    const json = await api(server.url, 'POST', '/api/v1/auth/login', { body: { email: 'admin@example.org', password: 'S3cure-pass!' } });
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({ token_type: 'bearer', expires_in: 900 });
    const form = await api(server.url, 'POST', '/api/v1/auth/login', {
      rawBody: 'username=admin%40example.org&password=S3cure-pass%21',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(200);
    const me = await api(server.url, 'GET', '/api/v1/auth/me', { token: form.body.access_token });
    expect(me.body).toMatchObject({ email: 'admin@example.org', role: 'admin' });
    expect(me.body).not.toHaveProperty('passwordHash');
    const lines = server.logs.filter((l) => l.msg === 'request');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.at(-1)).toMatchObject({ method: 'GET', path: '/api/v1/auth/me', status: 200 });
    const everything = JSON.stringify(server.logs);
    expect(everything).not.toContain('S3cure-pass');
    expect(everything).not.toContain(form.body.access_token);
  });
});
