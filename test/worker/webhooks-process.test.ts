// At least once, across a crash: a worker process killed with SIGKILL while a receiver holds its delivery
// leaves the delivery leased; once the clock has passed the lease, a new worker (its tick at start) sends the
// event again, with the same webhook-id, and it is delivered. `ascend worker` as child processes, a real
// receiver on loopback.
// And in a running worker, an endpoint that does not answer holds up its own deliveries only.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM, type Actor } from '../../src/domain/roles.js';
import { transaction } from '../../src/services/locks.js';
import { emitEvent } from '../../src/services/outbox.js';
import { createWebhook, listDeliveries } from '../../src/services/webhooks/endpoints.js';
import { workerModules } from '../../src/worker/modules.js';
import { startWorker } from '../../src/worker/runner.js';
import { BIN } from '../support/cli.js';
import { FROZEN_AT } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeUser } from '../support/fixtures.js';
import { type Receiver, startReceiver } from '../support/webhook-receiver.js';

process.env.ASCEND_WEBHOOKS_ALLOW_PRIVATE = 'true';

let db: TestDatabase;
let admin: Actor;
let hooks: Receiver;
beforeAll(async () => {
  db = await createTestDatabase();
  admin = (await makeUser(db, 'admin')).actor;
  hooks = await startReceiver();
});
afterAll(async () => {
  await hooks.close();
  await db.drop();
});

interface WorkerProcess {
  child: ChildProcessWithoutNullStreams;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `ascend worker` (the built CLI) at the instant `now` (ASCEND_NOW); resolves once it says it started. */
async function startWorkerProcess(now: string): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [BIN, 'worker', '--concurrency', '2'], {
    env: {
      ...process.env,
      CI: 'true',
      NO_COLOR: '1',
      DATABASE_URL: db.url,
      ASCEND_NOW: now,
      ASCEND_WEBHOOKS_ALLOW_PRIVATE: 'true',
      ASCEND_WEBHOOK_TIMEOUT: '10s',
    },
  });
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
  await new Promise<void>((ready, fail) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      if (/^worker: started/m.test(stderr)) ready();
    });
    void exited.then(() => fail(new Error(`the worker exited before it ran: ${stderr}`)));
  });
  return { child, stderr: () => stderr, exited };
}

const delivery = async (endpointId: number) => (await listDeliveries(db.ctx(admin), endpointId)).items[0];

describe('a worker killed in the middle of a delivery', () => {
  it('SIGKILL while the receiver holds the request: after a restart past the lease, the event is delivered again with the same webhook-id', async () => {
    const clinic = await makeClinic(db);
    const hook = await createWebhook(db.ctx(admin), { url: hooks.url, events: ['appointment.booked'] });
    hooks.mode = { hold: true };
    const eventId = await transaction(db.ctx(SYSTEM), (tx) =>
      emitEvent(tx, { type: 'appointment.booked', clinicId: clinic.id, appointmentId: null, data: { id: 7, status: 'booked' } }),
    );

    const first = await startWorkerProcess(FROZEN_AT);
    await hooks.waitFor(1, 20_000);
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    hooks.release(200); // the answer nobody is left to hear
    const leased = await delivery(hook.id);
    expect(leased).toMatchObject({ status: 'pending', attempts: 1, eventId });
    const [lease] = await db.sql<{ lease_until: Date }>('select lease_until from webhook_delivery where endpoint_id = $1', [hook.id]);
    // The lease outlasts the sends its claim may wait for (33 × the 10s timeout) and a margin.
    expect(lease?.lease_until.toISOString()).toBe(new Date(Date.parse(FROZEN_AT) + 360_000).toISOString());

    hooks.mode = { answer: 200 };
    const second = await startWorkerProcess(new Date(Date.parse(FROZEN_AT) + 390_000).toISOString());
    await hooks.waitFor(2, 20_000);
    const deadline = Date.now() + 20_000;
    while ((await delivery(hook.id))?.status !== 'delivered' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });

    expect(await delivery(hook.id)).toMatchObject({ status: 'delivered', attempts: 2, lastStatus: 200, eventId });
    expect(hooks.received.map((r) => r.headers['webhook-id'])).toEqual([eventId, eventId]);
    expect(hooks.received.map((r) => Number(r.headers['webhook-timestamp']))).toEqual([Date.parse(FROZEN_AT) / 1000, Date.parse(FROZEN_AT) / 1000 + 390]);
    expect(hooks.received[1]?.body).toBe(hooks.received[0]?.body);
  }, 60_000);
});

describe('a running worker', () => {
  it('delivers to a fast endpoint while a slow one holds its request: one job per endpoint, run side by side', async () => {
    const slow = await startReceiver();
    const fast = await startReceiver();
    try {
      slow.mode = { hold: true };
      const slowHook = await createWebhook(db.ctx(admin), { url: slow.url, events: ['appointment.cancelled'] });
      const fastHook = await createWebhook(db.ctx(admin), { url: fast.url, events: ['appointment.cancelled'] });
      const worker = await startWorker({ url: db.url, orm: db.orm, clock: db.clock, concurrency: 4, log: () => {}, modules: workerModules });
      try {
        await transaction(db.ctx(SYSTEM), (tx) => emitEvent(tx, { type: 'appointment.cancelled', clinicId: null, appointmentId: null, data: { id: 8 } }));
        await slow.waitFor(1, 20_000);
        await fast.waitFor(1, 20_000);
        expect(slow.held()).toBe(1);
        const deadline = Date.now() + 20_000;
        while ((await delivery(fastHook.id))?.status !== 'delivered' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(await delivery(fastHook.id)).toMatchObject({ status: 'delivered' });
        expect(await delivery(slowHook.id)).toMatchObject({ status: 'pending', attempts: 1 });
        slow.release(200);
      } finally {
        await worker.stop();
      }
    } finally {
      await slow.close();
      await fast.close();
    }
  }, 60_000);
});
