// Webhooks as the services and the worker module run them: a real database, a real HTTP receiver on loopback,
// the clock moved instead of waiting. `dispatch` does what the worker's outbox.dispatch does with new events
// (fan-out in the dispatching transaction); `deliver` is the worker's webhook.deliver job for one endpoint.
// A worker process killed mid-delivery: test/worker/webhooks-process.test.ts.
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ValidationError } from '../../src/domain/errors.js';
import { SYSTEM, type Actor } from '../../src/domain/roles.js';
import { bookAppointment, cancelAppointment } from '../../src/services/appointments.js';
import { transaction } from '../../src/services/locks.js';
import { emitEvent } from '../../src/services/outbox.js';
import { deliverEndpoint, retryDelayMs } from '../../src/services/webhooks/deliver.js';
import { webhooksTick } from '../../src/services/webhooks/schedule.js';
import { createWebhook, deleteWebhook, listDeliveries, listWebhooks, redeliver, testWebhook } from '../../src/services/webhooks/endpoints.js';
import { resolveDestination, type WebhookSettings, webhookSettings } from '../../src/services/webhooks/policy.js';
import { workerModules } from '../../src/worker/modules.js';
import { dispatchOutbox } from '../../src/worker/outbox.js';
import { runWorkerOnce } from '../../src/worker/runner.js';
import { FROZEN_AT, utc } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, makeUser, seedSlot } from '../support/fixtures.js';
import { type Receiver, startReceiver } from '../support/webhook-receiver.js';

process.env.ASCEND_WEBHOOKS_ALLOW_PRIVATE = 'true';

let db: TestDatabase;
let admin: Actor;
let clinicId: number;
const receivers: Receiver[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  admin = (await makeUser(db, 'admin')).actor;
  clinicId = (await makeClinic(db)).id;
});
afterEach(async () => {
  db.clock.set(FROZEN_AT);
  process.env.ASCEND_WEBHOOKS_ALLOW_PRIVATE = 'true';
  await db.sql(`update webhook_endpoint set deleted_at = coalesce(deleted_at, now())`);
  for (const r of receivers.splice(0)) await r.close();
});
afterAll(() => db.drop());

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

const settings = (over: Partial<WebhookSettings> = {}): WebhookSettings => ({ ...webhookSettings(), ...over });

/** An appointment event as the outbox would hold it (the appointment itself is not the point here). */
async function emit(type: string, data: object = { id: 1, status: 'booked' }, clinic: number | null = clinicId): Promise<string> {
  return transaction(db.ctx(SYSTEM), (tx) => emitEvent(tx, { type, clinicId: clinic, appointmentId: null, data }));
}

/** The worker's outbox.dispatch: new events, in seq order, to every module's onEvents (webhooks' fan-out). */
const dispatch = () => dispatchOutbox({ orm: db.orm, clock: db.clock, log: () => {} }, workerModules);

const deliver = (endpointId: number, over: Partial<WebhookSettings> = {}) => deliverEndpoint(db.ctx(SYSTEM), endpointId, settings(over));
const tick = () => webhooksTick(db.ctx(SYSTEM));
const deliveriesOf = async (endpointId: number) => (await listDeliveries(db.ctx(admin), endpointId, { limit: 1000 })).items;

describe('webhook endpoints', () => {
  it('create shows the whsec_ secret once: list, and every later view, never carry it', async () => {
    const r = await receiver();
    const created = await createWebhook(db.ctx(admin), { url: r.url, events: ['appointment.booked'] });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(created).toMatchObject({ url: r.url, events: ['appointment.booked'], clinicId: null, active: true, pendingDeliveries: 0 });
    const listed = (await listWebhooks(db.ctx(admin))).items.find((w) => w.id === created.id);
    expect(listed).toBeDefined();
    expect(JSON.stringify(listed)).not.toContain(created.secret);
    expect(listed).not.toHaveProperty('secret');
  });

  it('refuses what is not http(s), credentials in the URL, and unknown event types with a suggestion', async () => {
    const refusal = (input: Parameters<typeof createWebhook>[1]) =>
      createWebhook(db.ctx(admin), input).then(
        () => 'created',
        (e: ValidationError) => `${e.field}: ${e.message}`,
      );
    expect(await refusal({ url: 'ftp://example.org/x' })).toBe('url: url: must be an http:// or https:// URL (got ftp)');
    expect(await refusal({ url: 'https://user:pw@example.org/x' })).toMatch(/^url: .*must not carry credentials/);
    expect(await refusal({ url: 'http://127.0.0.1/x', events: ['appointment.bookd'] })).toBe(
      'events: events: "appointment.bookd" is not an event type: must be one of appointment.booked, appointment.rescheduled, appointment.moved, appointment.cancelled, appointment.completed, appointment.no_show, appointment.reminder, waitlist.offered, waitlist.accepted, waitlist.declined, waitlist.offer_expired, webhook.disabled (did you mean appointment.booked?)',
    );
  });

  it('refuses loopback and private addresses, literal or resolved, unless ASCEND_WEBHOOKS_ALLOW_PRIVATE=true', async () => {
    process.env.ASCEND_WEBHOOKS_ALLOW_PRIVATE = 'false';
    for (const url of [
      'http://127.0.0.1:9/x',
      'http://10.1.2.3/x',
      'http://169.254.169.254/latest',
      'http://[::1]/x',
      'http://[fd00::1]/x',
      'http://[::ffff:127.0.0.1]/x',
      'http://224.0.0.1/',
    ]) {
      await expect(createWebhook(db.ctx(admin), { url }), url).rejects.toThrow(/loopback, private or reserved address.*ASCEND_WEBHOOKS_ALLOW_PRIVATE=true/);
    }
    // A name is judged by what it resolves to.
    await expect(resolveDestination('http://localhost:9/x', settings({ allowPrivate: false }))).rejects.toThrow(
      /localhost \((127\.0\.0\.1|::1)\) is a loopback/,
    );
    process.env.ASCEND_WEBHOOKS_ALLOW_PRIVATE = 'true';
    expect((await createWebhook(db.ctx(admin), { url: 'http://127.0.0.1:9/x' })).url).toBe('http://127.0.0.1:9/x');
  });

  it('refuses a delivery to an address that became private after create: the rule is checked again at each attempt', async () => {
    const r = await receiver();
    const hook = await createWebhook(db.ctx(admin), { url: r.url });
    await emit('appointment.booked');
    await dispatch();
    expect(await deliver(hook.id, { allowPrivate: false })).toEqual({ sent: 1, delivered: 0 });
    expect(r.received).toHaveLength(0);
    expect((await deliveriesOf(hook.id))[0]).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: expect.stringMatching(/^url: 127\.0\.0\.1 is a loopback/),
    });
  });

  it('fans an event out to the active endpoints of its type and clinic only, once each', async () => {
    const r = await receiver();
    const other = (await makeClinic(db)).id;
    const all = await createWebhook(db.ctx(admin), { url: r.url });
    const booked = await createWebhook(db.ctx(admin), { url: r.url, events: ['appointment.booked'] });
    const cancelled = await createWebhook(db.ctx(admin), { url: r.url, events: ['appointment.cancelled'] });
    const here = await createWebhook(db.ctx(admin), { url: r.url, clinicId });
    const elsewhere = await createWebhook(db.ctx(admin), { url: r.url, clinicId: other });
    const gone = await createWebhook(db.ctx(admin), { url: r.url });
    await deleteWebhook(db.ctx(admin), gone.id);
    await emit('appointment.booked');
    await dispatch();
    await dispatch();
    const counts = Object.fromEntries(
      await Promise.all(
        [all, booked, cancelled, here, elsewhere, gone].map(async (w) => [
          w.id,
          (await db.sql('select 1 from webhook_delivery where endpoint_id = $1', [w.id])).length,
        ]),
      ),
    );
    expect(counts).toEqual({ [all.id]: 1, [booked.id]: 1, [cancelled.id]: 0, [here.id]: 1, [elsewhere.id]: 0, [gone.id]: 0 });
  });

  it('delete drops the pending deliveries, and the endpoint is gone from list', async () => {
    const r = await receiver();
    const hook = await createWebhook(db.ctx(admin), { url: r.url });
    await emit('appointment.booked');
    await emit('appointment.cancelled');
    await dispatch();
    const deleted = await deleteWebhook(db.ctx(admin), hook.id);
    expect(deleted.droppedDeliveries).toBe(2);
    expect((await listWebhooks(db.ctx(admin))).items.map((w) => w.id)).not.toContain(hook.id);
    expect(await db.sql('select 1 from webhook_delivery where endpoint_id = $1', [hook.id])).toHaveLength(0);
  });
});

describe('delivering', () => {
  it('signs per Standard Webhooks: the standardwebhooks package verifies it, and the body is {type, timestamp, data}', async () => {
    // The package allows 5 minutes between the signature's time and its own: sign at the real time.
    db.clock.set(new Date());
    const r = await receiver();
    const hook = await createWebhook(db.ctx(admin), { url: r.url });
    const at = db.clock.now().toISOString();
    const id = await emit('appointment.booked', { id: 42, status: 'booked' });
    await dispatch();
    expect(await deliver(hook.id)).toEqual({ sent: 1, delivered: 1 });
    const [got] = r.received;
    expect(got?.headers['webhook-id']).toBe(id);
    const signed = {
      'webhook-id': String(got?.headers['webhook-id']),
      'webhook-timestamp': String(got?.headers['webhook-timestamp']),
      'webhook-signature': String(got?.headers['webhook-signature']),
    };
    const verified = new Webhook(hook.secret).verify(got?.body ?? '', signed);
    expect(verified).toEqual({ type: 'appointment.booked', timestamp: at, data: { id: 42, status: 'booked' } });
    expect(got?.headers['content-type']).toBe('application/json');
    // Another key does not verify it.
    expect(() => new Webhook(`whsec_${Buffer.alloc(24, 7).toString('base64')}`).verify(got?.body ?? '', signed)).toThrow();
    // Nor does a body changed on the way.
    expect(() => new Webhook(hook.secret).verify((got?.body ?? '').replace('42', '43'), signed)).toThrow();
    expect((await deliveriesOf(hook.id))[0]).toMatchObject({ status: 'delivered', attempts: 1, lastStatus: 200, eventId: id });
  });

  it('a retry keeps its webhook-id, is signed at its own time, and waits the back-off on the services’ clock', async () => {
    const r = await receiver();
    const hook = await createWebhook(db.ctx(admin), { url: r.url });
    const id = await emit('appointment.cancelled');
    await dispatch();
    r.mode = { answer: 500 };
    expect(await deliver(hook.id)).toEqual({ sent: 1, delivered: 0 });
    const [first] = await deliveriesOf(hook.id);
    expect(first).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastStatus: 500,
      lastError: 'answered 500',
      nextAttemptAt: new Date(Date.parse(FROZEN_AT) + 30_000).toISOString(),
    });
    // Not due yet: nothing is queued, and a job run now sends nothing.
    expect((await tick()).queued).not.toContain(hook.id);
    expect(await deliver(hook.id)).toEqual({ sent: 0, delivered: 0 });
    r.mode = { answer: 204 };
    db.clock.advance('30s');
    expect((await tick()).queued).toContain(hook.id);
    expect(await deliver(hook.id)).toEqual({ sent: 1, delivered: 1 });
    expect(r.received.map((q) => q.headers['webhook-id'])).toEqual([id, id]);
    expect(r.received.map((q) => Number(q.headers['webhook-timestamp']))).toEqual([Date.parse(FROZEN_AT) / 1000, Date.parse(FROZEN_AT) / 1000 + 30]);
    expect((await listWebhooks(db.ctx(admin))).items.find((w) => w.id === hook.id)?.failingSince).toBeNull();
  });

  it('backs off exponentially, 30s doubling to at most an hour', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 30].map((n) => retryDelayMs(n) / 1000)).toEqual([30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
  });

  it('a receiver down for an hour, then up: the event is delivered, with the same webhook-id', async () => {
    const r = await receiver();
    const hook = await createWebhook(db.ctx(admin), { url: r.url });
    const id = await emit('appointment.booked');
    await dispatch();
    r.mode = { down: true };
    const start = db.clock.now().getTime();
    await deliver(hook.id);
    while (db.clock.now().getTime() - start < 60 * 60_000) {
      db.clock.advance('1m');
      const { queued } = await tick();
      if (queued.includes(hook.id)) await deliver(hook.id);
    }
    const down = await deliveriesOf(hook.id);
    // The tick runs each minute: attempts at 0, 1m (the 30s back-off), 2m, 4m, 8m, 16m, 32m; the next at 64m.
    expect(down[0]).toMatchObject({ status: 'pending', attempts: 7, lastStatus: null, nextAttemptAt: new Date(start + 64 * 60_000).toISOString() });
    expect((await listWebhooks(db.ctx(admin))).items.find((w) => w.id === hook.id)?.failingSince).toBe(FROZEN_AT);
    r.mode = { answer: 200 };
    db.clock.set(down[0]?.nextAttemptAt ?? '');
    expect((await tick()).queued).toContain(hook.id);
    expect(await deliver(hook.id)).toEqual({ sent: 1, delivered: 1 });
    expect((await deliveriesOf(hook.id))[0]).toMatchObject({ status: 'delivered', attempts: 8 });
    expect(new Set(r.received.map((q) => q.headers['webhook-id']))).toEqual(new Set([id]));
    expect((await listWebhooks(db.ctx(admin))).items.find((w) => w.id === hook.id)?.failingSince).toBeNull();
  });

  it('retries run out after ASCEND_WEBHOOK_RETRY_FOR: failed; redeliver sends it again with the same webhook-id', async () => {
    const r = await receiver();
    const hook = await createWebhook(db.ctx(admin), { url: r.url });
    const id = await emit('appointment.completed');
    await dispatch();
    r.mode = { answer: 503 };
    const retryFor = { retryForMs: 10 * 60_000 };
    await deliver(hook.id, retryFor);
    for (let i = 0; i < 20; i++) {
      db.clock.advance('1m');
      if ((await tick()).queued.includes(hook.id)) await deliver(hook.id, retryFor);
    }
    const [failed] = await deliveriesOf(hook.id);
    // Attempts at 0, 30s, 1m30s, 3m30s, 7m30s; the next (15m30s) would fall after the 10 minutes.
    expect(failed).toMatchObject({ status: 'failed', attempts: 5, lastStatus: 503, nextAttemptAt: null });
    expect((await listDeliveries(db.ctx(admin), hook.id, { failed: true })).items.map((d) => d.id)).toEqual([failed?.id]);
    r.mode = { answer: 200 };
    const again = await redeliver(db.ctx(admin), failed?.id ?? 0);
    expect(again).toMatchObject({ status: 'pending', attempts: 0, failedAt: null, eventId: id });
    expect((await tick()).queued).toContain(hook.id);
    expect(await deliver(hook.id, retryFor)).toEqual({ sent: 1, delivered: 1 });
    expect(r.received.map((q) => q.headers['webhook-id'])).toEqual(Array(6).fill(id));
    await expect(redeliver(db.ctx(admin), 999_999)).rejects.toThrow('delivery 999999 not found');
  });

  it('an endpoint failing for a day is disabled, and a webhook.disabled event goes to the endpoints that hear it', async () => {
    const dead = await receiver();
    const watcher = await receiver();
    const hook = await createWebhook(db.ctx(admin), { url: dead.url, events: ['appointment.booked'] });
    const watch = await createWebhook(db.ctx(admin), { url: watcher.url, events: ['webhook.disabled'] });
    await emit('appointment.booked');
    await dispatch();
    dead.mode = { answer: 500 };
    await deliver(hook.id);
    for (let hours = 1; hours < 24; hours++) {
      db.clock.set(new Date(Date.parse(FROZEN_AT) + hours * 3600_000));
      await emit('appointment.booked');
      await dispatch();
      expect((await tick()).disabled).toEqual([]);
      await deliver(hook.id);
    }
    db.clock.set(new Date(Date.parse(FROZEN_AT) + 24 * 3600_000));
    const { disabled } = await tick();
    expect(disabled).toEqual([hook.id]);
    const view = (await listWebhooks(db.ctx(admin))).items.find((w) => w.id === hook.id);
    expect(view).toMatchObject({ active: false, disabledAt: db.clock.now().toISOString(), failingSince: FROZEN_AT, pendingDeliveries: 0 });
    expect(view?.disabledReason).toBe(`every delivery failed for a day (since ${FROZEN_AT.replace('.000Z', 'Z')})`);
    // Nothing more goes to it; its open deliveries are failed.
    await emit('appointment.booked');
    await dispatch();
    expect((await deliveriesOf(hook.id)).every((d) => d.status === 'failed')).toBe(true);
    expect(await deliver(hook.id)).toEqual({ sent: 0, delivered: 0 });
    await expect(testWebhook(db.ctx(admin), hook.id)).rejects.toThrow(/webhook \d+ is disabled/);
    // The watcher hears about it.
    expect(await deliver(watch.id)).toEqual({ sent: 1, delivered: 1 });
    const body = JSON.parse(watcher.received[0]?.body ?? '{}');
    expect(body).toEqual({
      type: 'webhook.disabled',
      timestamp: db.clock.now().toISOString(),
      data: { endpointId: hook.id, url: dead.url, failingSince: FROZEN_AT, disabledAt: db.clock.now().toISOString() },
    });
  });

  it('an endpoint that delivered since failing_since is never disabled, even if the mark was left set', async () => {
    const r = await receiver();
    const hook = await createWebhook(db.ctx(admin), { url: r.url });
    await emit('appointment.booked');
    await dispatch();
    expect(await deliver(hook.id)).toEqual({ sent: 1, delivered: 1 });
    // A delivery job writes failing_since only when it saw the endpoint's state change; a second job on the
    // same endpoint (a lease that ran out) could leave the mark behind a success. The success still counts.
    await db.sql('update webhook_endpoint set failing_since = $1 where id = $2', [new Date(Date.parse(FROZEN_AT) - 3600_000), hook.id]);
    db.clock.set(new Date(Date.parse(FROZEN_AT) + 24 * 3600_000));
    expect((await tick()).disabled).toEqual([]);
    expect((await listWebhooks(db.ctx(admin))).items.find((w) => w.id === hook.id)).toMatchObject({ active: true });
  });

  it('a slow receiver does not hold up another endpoint, and its attempt ends at the timeout', async () => {
    const slow = await receiver();
    const fast = await receiver();
    slow.mode = { hold: true };
    const slowHook = await createWebhook(db.ctx(admin), { url: slow.url });
    const fastHook = await createWebhook(db.ctx(admin), { url: fast.url });
    await emit('appointment.booked');
    await dispatch();
    const slowJob = deliver(slowHook.id, { timeoutMs: 1500 });
    await slow.waitFor(1);
    const started = Date.now();
    expect(await deliver(fastHook.id)).toEqual({ sent: 1, delivered: 1 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(slow.held()).toBe(1);
    expect(await slowJob).toEqual({ sent: 1, delivered: 0 });
    expect((await deliveriesOf(slowHook.id))[0]).toMatchObject({ status: 'pending', lastError: 'no answer within 1.5s' });
  });

  it('sends 4 at once, and a claim’s lease covers every send it may have to wait for (33 timeouts and a margin)', async () => {
    const slow = await receiver();
    slow.mode = { hold: true };
    const hook = await createWebhook(db.ctx(admin), { url: slow.url });
    for (let i = 0; i < 6; i++) await emit('appointment.booked', { id: i });
    await dispatch();
    const job = deliver(hook.id, { timeoutMs: 1000 });
    await slow.waitFor(4);
    const leases = await db.sql<{ lease_until: Date }>('select lease_until from webhook_delivery where endpoint_id = $1 and lease_until is not null', [
      hook.id,
    ]);
    expect(slow.held()).toBe(4);
    expect(leases.map((l) => l.lease_until.toISOString())).toEqual(Array(6).fill(new Date(Date.parse(FROZEN_AT) + 33 * 1000 + 30_000).toISOString()));
    expect(await job).toEqual({ sent: 6, delivered: 0 });
    expect(slow.received).toHaveLength(6);
  });

  it('test sends a webhook.test event to that endpoint only', async () => {
    const r = await receiver();
    const other = await receiver();
    const hook = await createWebhook(db.ctx(admin), { url: r.url });
    const bystander = await createWebhook(db.ctx(admin), { url: other.url });
    const sent = await testWebhook(db.ctx(admin), hook.id);
    expect(sent.delivery).toMatchObject({ endpointId: hook.id, eventType: 'webhook.test', status: 'pending', eventId: sent.eventId });
    await dispatch();
    expect(await deliver(hook.id)).toEqual({ sent: 1, delivered: 1 });
    expect(await deliver(bystander.id)).toEqual({ sent: 0, delivered: 0 });
    expect(JSON.parse(r.received[0]?.body ?? '{}')).toMatchObject({ type: 'webhook.test', data: { endpointId: hook.id } });
    expect(r.received[0]?.headers['webhook-id']).toBe(sent.eventId);
  });

  it('a booking and its cancellation reach the endpoint through the worker (ascend worker --once): the appointment as the API shows it', async () => {
    const r = await receiver();
    const hook = await createWebhook(db.ctx(admin), { url: r.url, events: ['appointment.booked', 'appointment.cancelled'], clinicId });
    const { doctor } = await makeDoctor(db, clinicId);
    const { actor: patient } = await makePatient(db);
    const booked = await bookAppointment(db.ctx(patient), { slotId: await seedSlot(db, doctor.id, utc(3, '09:00')) });
    const cancelled = await cancelAppointment(db.ctx(patient), booked.id, {});
    await runWorkerOnce({ url: db.url, orm: db.orm, clock: db.clock, concurrency: 1, log: () => {}, modules: workerModules });
    // Sent a few at once: in no promised order (as Standard Webhooks allows; the timestamp and data tell).
    expect(r.received.map((q) => JSON.parse(q.body))).toEqual(
      expect.arrayContaining([
        { type: 'appointment.booked', timestamp: FROZEN_AT, data: booked },
        { type: 'appointment.cancelled', timestamp: FROZEN_AT, data: cancelled },
      ]),
    );
    expect(r.received).toHaveLength(2);
    expect((await deliveriesOf(hook.id)).map((d) => d.status)).toEqual(['delivered', 'delivered']);
  });

  it('only admins manage webhooks', async () => {
    for (const role of ['doctor', 'patient'] as const) {
      const { actor } = await makeUser(db, role);
      await expect(listWebhooks(db.ctx(actor))).rejects.toThrow(`managing webhooks needs the admin role; you are a ${role}`);
    }
  });
});
