// /api/v1/webhooks over a real socket: admins create, list, test, read deliveries, redeliver and delete; every
// other caller is refused (401 without a token, 403 for doctors and patients). The worker's job for one
// endpoint (deliverEndpoint) runs in-process against a real receiver.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../src/domain/roles.js';
import { deliverEndpoint } from '../../src/services/webhooks/deliver.js';
import { makeUser, tokenFor } from '../support/fixtures.js';
import { api, type ApiResponse, serverWithAdminPerFile } from '../support/http.js';
import { type Receiver, startReceiver } from '../support/webhook-receiver.js';

process.env.ASCEND_WEBHOOKS_ALLOW_PRIVATE = 'true';

const world = serverWithAdminPerFile();
const receivers: Receiver[] = [];
afterEach(async () => {
  process.env.ASCEND_WEBHOOKS_ALLOW_PRIVATE = 'true';
  for (const r of receivers.splice(0)) await r.close();
});
afterAll(() => {
  delete process.env.ASCEND_WEBHOOKS_ALLOW_PRIVATE;
});

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

const call = (method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
  api(world.url, method, `/api/v1${path}`, { token: world.adminToken, ...options });

function expectProblem(res: ApiResponse, status: number, field?: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  if (field) expect(res.body.field).toBe(field);
}

describe('/api/v1/webhooks', () => {
  it('create answers 201 with the secret once; the same Idempotency-Key replays it; list never shows a secret', async () => {
    const r = await receiver();
    const body = { url: r.url, events: ['appointment.booked', 'appointment.cancelled'] };
    const first = await call('POST', '/webhooks', { body, headers: { 'Idempotency-Key': 'hook-1' } });
    expect(first.status, first.text).toBe(201);
    expect(first.body).toMatchObject({
      url: r.url,
      events: ['appointment.booked', 'appointment.cancelled'],
      active: true,
      secret: expect.stringMatching(/^whsec_/),
    });
    const again = await call('POST', '/webhooks', { body, headers: { 'Idempotency-Key': 'hook-1' } });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    const list = await call('GET', '/webhooks');
    expect(list.status).toBe(200);
    expect(list.body.items.map((w: { id: number }) => w.id)).toEqual([first.body.id]);
    expect(list.text).not.toContain(first.body.secret);
  });

  it('test queues a webhook.test delivery; deliveries lists it; redeliver sends it again with the same webhook-id; delete drops pending ones', async () => {
    const r = await receiver();
    const hook = (await call('POST', '/webhooks', { body: { url: r.url } })).body;
    const sent = await call('POST', `/webhooks/${hook.id}/test`);
    expect(sent.status, sent.text).toBe(202);
    expect(sent.body.delivery).toMatchObject({ endpointId: hook.id, eventType: 'webhook.test', status: 'pending', attempts: 0 });
    expect(await deliverEndpoint(world.db.ctx(SYSTEM), hook.id)).toEqual({ sent: 1, delivered: 1 });
    const deliveries = await call('GET', `/webhooks/${hook.id}/deliveries`);
    expect(deliveries.status).toBe(200);
    expect(deliveries.body.items).toEqual([expect.objectContaining({ id: sent.body.delivery.id, status: 'delivered', lastStatus: 200 })]);
    expect((await call('GET', `/webhooks/${hook.id}/deliveries?failed=true`)).body.items).toEqual([]);
    const again = await call('POST', `/webhooks/deliveries/${sent.body.delivery.id}/redeliver`);
    expect(again.status, again.text).toBe(202);
    expect(again.body).toMatchObject({ status: 'pending', eventId: sent.body.eventId });
    expectProblem(await call('POST', `/webhooks/deliveries/${sent.body.delivery.id}/redeliver`), 409);
    expect(await deliverEndpoint(world.db.ctx(SYSTEM), hook.id)).toEqual({ sent: 1, delivered: 1 });
    expect(r.received.map((q) => q.headers['webhook-id'])).toEqual([sent.body.eventId, sent.body.eventId]);
    await call('POST', `/webhooks/${hook.id}/test`);
    const deleted = await call('DELETE', `/webhooks/${hook.id}`);
    expect(deleted.status, deleted.text).toBe(200);
    expect(deleted.body).toMatchObject({ id: hook.id, droppedDeliveries: 1 });
    expectProblem(await call('DELETE', `/webhooks/${hook.id}`), 404);
    expectProblem(await call('GET', `/webhooks/${hook.id}/deliveries`), 404);
  });

  it('a private address without ASCEND_WEBHOOKS_ALLOW_PRIVATE is a 422 naming url, in one line', async () => {
    process.env.ASCEND_WEBHOOKS_ALLOW_PRIVATE = 'false';
    const res = await call('POST', '/webhooks', { body: { url: 'http://127.0.0.1:8080/hook' } });
    expectProblem(res, 422, 'url');
    expect(res.body.detail).toBe(
      'url: 127.0.0.1 is a loopback, private or reserved address: webhooks may not reach it (ASCEND_WEBHOOKS_ALLOW_PRIVATE=true allows it)',
    );
  });

  it('an unknown event type is a 422 naming events, with a suggestion; an unknown clinic a 404', async () => {
    const r = await receiver();
    const res = await call('POST', '/webhooks', { body: { url: r.url, events: ['appointment.canceled'] } });
    expectProblem(res, 422, 'events');
    expect(res.body.detail).toMatch(/"appointment\.canceled" is not an event type: .*\(did you mean appointment\.cancelled\?\)$/);
    expectProblem(await call('POST', '/webhooks', { body: { url: r.url, clinicId: 99999 } }), 404, 'clinicId');
  });

  it('doctors and patients get 403 on every webhook route; without a token 401', async () => {
    const routes: [string, string][] = [
      ['POST', '/webhooks'],
      ['GET', '/webhooks'],
      ['DELETE', '/webhooks/1'],
      ['POST', '/webhooks/1/test'],
      ['GET', '/webhooks/1/deliveries'],
      ['POST', '/webhooks/deliveries/1/redeliver'],
    ];
    for (const role of ['doctor', 'patient'] as const) {
      const token = await tokenFor(world.db, (await makeUser(world.db, role)).user);
      for (const [method, path] of routes) {
        expectProblem(await call(method, path, { token, ...(method === 'POST' && path === '/webhooks' ? { body: { url: 'http://127.0.0.1:1/' } } : {}) }), 403);
      }
    }
    for (const [method, path] of routes) expectProblem(await api(world.url, method, `/api/v1${path}`), 401);
  });
});
