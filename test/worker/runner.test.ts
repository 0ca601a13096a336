/**
 * The worker runtime: the outbox's dispatch hands every event to the modules once, in seq order, committed
 * with its "dispatched" mark, however many dispatchers run at once; graphile-worker runs the modules' tasks,
 * the dispatch and the tick; `--once` ticks, then runs every job that is due until none is left.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../src/domain/roles.js';
import { bookAppointment } from '../../src/services/appointments.js';
import { serviceContext } from '../../src/services/context.js';
import { transaction } from '../../src/services/locks.js';
import { emitEvent } from '../../src/services/outbox.js';
import { addJob } from '../../src/worker/jobs.js';
import type { OutboxEvent, WorkerContext, WorkerModule } from '../../src/worker/module.js';
import { workerModules } from '../../src/worker/modules.js';
import { dispatchOutbox } from '../../src/worker/outbox.js';
import { runTick, runWorkerOnce, startWorker } from '../../src/worker/runner.js';
import { utc } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedSlot } from '../support/fixtures.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const worker = (): WorkerContext => ({ orm: db.orm, clock: db.clock, log: () => {} });
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check` holds (the worker runs in the background), for at most 20 s. */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the worker');
    await pause(50);
  }
}

/** `n` events, emitted by SQL in one statement (as many transactions would, minus the time). */
async function emitMany(n: number, type = 'test.many'): Promise<string[]> {
  const rows = await db.sql<{ id: string }>(`select ascend_emit_event($1, $2, null, null, jsonb_build_object('n', i)) as id from generate_series(1, $3) i`, [
    type,
    db.clock.now(),
    n,
  ]);
  return rows.map((r) => r.id);
}

const undispatched = async () => (await db.sql<{ n: number }>('select count(*)::int as n from outbox_event where dispatched_at is null'))[0]?.n;

describe('outbox.dispatch', () => {
  it('three dispatchers at once hand every event to the modules exactly once, each batch in seq order, and mark it dispatched', async () => {
    const ids = await emitMany(1200);
    const seen: OutboxEvent[][] = [];
    const recorder: WorkerModule = {
      name: 'recorder',
      async onEvents(_tx, events) {
        seen.push([...events]);
        await pause(30); // hold the batch open while the others look
      },
    };
    const counts = await Promise.all([0, 1, 2].map(() => dispatchOutbox(worker(), [recorder])));
    const handed = seen.flat().map((e) => e.id);
    expect(handed.length).toBe(ids.length);
    expect(new Set(handed)).toEqual(new Set(ids));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(ids.length);
    expect(counts.filter((c) => c > 0).length).toBeGreaterThan(1); // they really shared the work
    for (const batch of seen) {
      expect(batch.length).toBeLessThanOrEqual(500);
      expect(batch.map((e) => BigInt(e.seq))).toEqual([...batch.map((e) => BigInt(e.seq))].sort((a, b) => (a < b ? -1 : 1)));
    }
    expect(await undispatched()).toBe(0);
    const marks = await db.sql<{ at: Date }>('select distinct dispatched_at as at from outbox_event where id = any($1)', [ids]);
    expect(marks.map((m) => m.at.toISOString())).toEqual([db.clock.now().toISOString()]);
    expect(await dispatchOutbox(worker(), [recorder])).toBe(0);
  });

  it('a module that throws rolls its batch back: nothing it wrote stays, and the next dispatch hands the events out again', async () => {
    const [id] = await emitMany(1, 'test.retry');
    let failing = true;
    const received: string[] = [];
    const flaky: WorkerModule = {
      name: 'flaky',
      async onEvents(tx, events) {
        await addJob(tx.em, 'test.fanout', { ids: events.map((e) => e.id) });
        if (failing) throw new Error('the receiver table is locked');
        received.push(...events.map((e) => e.id));
      },
    };
    await expect(dispatchOutbox(worker(), [flaky])).rejects.toThrow('the receiver table is locked');
    expect(await undispatched()).toBe(1);
    expect(await db.sql(`select 1 from graphile_worker.jobs where task_identifier = 'test.fanout'`)).toEqual([]);
    failing = false;
    expect(await dispatchOutbox(worker(), [flaky])).toBe(1);
    expect(received).toEqual([id]);
    expect(await db.sql<{ n: number }>(`select count(*)::int as n from graphile_worker.jobs where task_identifier = 'test.fanout'`)).toEqual([{ n: 1 }]);
  });
});

describe('the runner', () => {
  it('a booking reaches a module’s onEvents through graphile-worker, and a module’s task runs a job queued in a transaction', async () => {
    const events: OutboxEvent[] = [];
    const payloads: unknown[] = [];
    const module: WorkerModule = {
      name: 'listener',
      tasks: {
        'test.ping': async (payload) => {
          payloads.push(payload);
        },
      },
      async onEvents(_tx, batch) {
        events.push(...batch);
      },
    };
    const running = await startWorker({ url: db.url, orm: db.orm, clock: db.clock, concurrency: 2, log: () => {}, modules: [...workerModules, module] });
    try {
      const clinic = await makeClinic(db);
      const { doctor } = await makeDoctor(db, clinic.id);
      const { actor } = await makePatient(db);
      const booked = await bookAppointment(db.ctx(actor), { slotId: await seedSlot(db, doctor.id, utc(3, '09:00')) });
      await eventually(async () => events.some((e) => e.appointmentId === booked.id));
      expect(events.find((e) => e.appointmentId === booked.id)).toMatchObject({ type: 'appointment.booked', clinicId: clinic.id, data: { id: booked.id } });

      await transaction(serviceContext(db.em(), SYSTEM, db.clock), (tx) => addJob(tx.em, 'test.ping', { hello: 'world' }));
      await eventually(async () => payloads.length > 0);
      expect(payloads).toEqual([{ hello: 'world' }]);
    } finally {
      await running.stop();
    }
  });

  /**
   * A long-running worker on a database of its own, polling every `pollInterval` ms, with a module recording
   * the ids it is handed; `emit` writes an event of `type` as a service would. Stopped and dropped after `test`.
   */
  async function withRunningWorker(
    pollInterval: number,
    test: (w: { fresh: TestDatabase; dispatched: string[]; emit: (type: string) => Promise<string> }) => Promise<void>,
  ): Promise<void> {
    const fresh = await createTestDatabase();
    const dispatched: string[] = [];
    const module: WorkerModule = { name: 'listener', onEvents: async (_tx, batch) => void dispatched.push(...batch.map((e) => e.id)) };
    const running = await startWorker({
      url: fresh.url,
      orm: fresh.orm,
      clock: fresh.clock,
      concurrency: 1,
      log: () => {},
      modules: [...workerModules, module],
      pollInterval,
    });
    const emit = (type: string) =>
      transaction(serviceContext(fresh.em(), SYSTEM, fresh.clock), (tx) => emitEvent(tx, { type, clinicId: null, appointmentId: null, data: {} }));
    try {
      await test({ fresh, dispatched, emit });
    } finally {
      await running.stop();
      await fresh.drop();
    }
  }

  /** Waits up to 10 s for `id` to be handed to the module. */
  async function dispatchedWithin10s(dispatched: string[], id: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!dispatched.includes(id) && Date.now() < deadline) await pause(20);
    expect(dispatched).toContain(id);
  }

  it('an idle worker is woken at once by a new event’s notification (it would poll only each minute)', async () => {
    await withRunningWorker(60_000, async ({ fresh, dispatched, emit }) => {
      const first = await emit('test.wake');
      await eventually(async () => dispatched.includes(first));
      await pause(1000); // nothing is left but the follow-up: the worker sleeps until notified, or for a minute
      expect(await fresh.sql(`select count(*)::int as n from graphile_worker._private_jobs where locked_at is null and payload->>'followUp' is null`)).toEqual([
        { n: 0 },
      ]);
      await dispatchedWithin10s(dispatched, await emit('test.wake'));
    });
  });

  it('a dispatch is followed a second later by another, which finds an event that committed while the first ran', async () => {
    await withRunningWorker(500, async ({ fresh, dispatched, emit }) => {
      const first = await emit('test.first');
      await eventually(async () => dispatched.includes(first));
      // The race: an event that saw the first's job waiting, so queued none, and committed after it was drained.
      const [late] = await fresh.sql<{ id: string }>(
        `insert into outbox_event (id, type, at, data) values ('evt_' || md5(random()::text), 'test.late', now(), '{}') returning id`,
      );
      await dispatchedWithin10s(dispatched, late?.id ?? '');
    });
  });

  it('a tick dispatches an event whose job was lost (held by a worker killed outright)', async () => {
    const [id] = await emitMany(1, 'test.orphan');
    await db.sql(`delete from graphile_worker._private_jobs where payload->>'seq' = (select seq::text from outbox_event where id = $1)`, [id]);
    const received: string[] = [];
    await runTick(worker(), [{ name: 'recorder', onEvents: async (_tx, events) => void received.push(...events.map((e) => e.id)) }]);
    expect(received).toContain(id);
    expect(await undispatched()).toBe(0);
  });

  it('--once: ticks on the services’ clock, then runs every due job, those queued meanwhile too, and returns when none is left', async () => {
    const ticks: string[] = [];
    const order: string[] = [];
    const module: WorkerModule = {
      name: 'chain',
      tasks: {
        'test.first': async (_payload, w) => {
          order.push('first');
          await transaction(serviceContext(w.orm.em.fork(), SYSTEM, w.clock), (tx) => addJob(tx.em, 'test.second', {}));
        },
        'test.second': async () => {
          order.push('second');
        },
      },
      async onTick(w) {
        ticks.push(w.clock.now().toISOString());
        await transaction(serviceContext(w.orm.em.fork(), SYSTEM, w.clock), (tx) => addJob(tx.em, 'test.first', {}));
      },
    };
    await transaction(serviceContext(db.em(), SYSTEM, db.clock), (tx) => emitEvent(tx, { type: 'test.once', clinicId: null, appointmentId: null, data: {} }));
    await runWorkerOnce({ url: db.url, orm: db.orm, clock: db.clock, concurrency: 1, log: () => {}, modules: [...workerModules, module] });
    expect(ticks).toEqual([db.clock.now().toISOString()]);
    expect(order).toEqual(['first', 'second']);
    expect(await undispatched()).toBe(0);
    expect(
      await db.sql(`select task_identifier from graphile_worker.jobs where task_identifier = any($1) and attempts < max_attempts`, [
        ['test.first', 'test.second', 'outbox.dispatch'],
      ]),
    ).toEqual([]);
  });
});
