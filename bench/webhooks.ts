// Webhook delivery against the receiver's own pace: the same local receiver taking signed deliveries from one
// endpoint's job (claim, sign, POST four at once over kept-alive connections, record), and the same number of
// plain POSTs of a body the same size from a bare HTTP client (four at once, kept alive). The receiver is a
// process of its own, as a receiver would be (in the bench's process it shared one event loop with the worker). The sides take turns,
// three rounds each, and each side's median round is compared (this VM's speed drifts within minutes).
import { spawn } from 'node:child_process';
import http from 'node:http';
import pg from 'pg';
import { openOrm } from '../src/db/orm.js';
import { systemClock } from '../src/domain/clock.js';
import { SYSTEM } from '../src/domain/roles.js';
import { serviceContext } from '../src/services/context.js';
import { deliverEndpoint, SENDS_AT_ONCE } from '../src/services/webhooks/deliver.js';
import { createWebhook } from '../src/services/webhooks/endpoints.js';
import { webhookSettings } from '../src/services/webhooks/policy.js';
import { workerModules } from '../src/worker/modules.js';
import { dispatchOutbox } from '../src/worker/outbox.js';
import { median, printTable, type BenchServer, type Row } from './support.js';

const EVENTS = 2000;
const ROUNDS = 3;

/**
 * The receiver: its own process (as a receiver is), answering 204 to every POST once the body is in. Both
 * sides send to this one process, so it is the same receiver at the same pace.
 */
async function receiver(): Promise<{ url: string; close: () => Promise<void> }> {
  const program = `
    const server = require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(204).end()); });
    server.keepAliveTimeout = 60000;
    server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));`;
  const child = spawn(process.execPath, ['-e', program], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once('exit', (code) => reject(new Error(`the receiver exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}/hook`,
    close: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}

/** The receiver's own pace: EVENTS plain POSTs, SENDS_AT_ONCE at a time, kept alive. Per second. */
async function plainClient(url: string, body: string): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: SENDS_AT_ONCE });
  let left = EVENTS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: SENDS_AT_ONCE }, async () => {
      while (left-- > 0) {
        await new Promise<void>((done, fail) => {
          const request = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
            res.resume();
            res.on('end', done);
          });
          request.on('error', fail);
          request.end(body);
        });
      }
    }),
  );
  agent.destroy();
  return EVENTS / ((performance.now() - started) / 1000);
}

export async function benchWebhooks(server: BenchServer): Promise<Row[]> {
  process.env.ASCEND_WEBHOOKS_ALLOW_PRIVATE = 'true';
  const url = await server.database('bench_webhooks');
  const orm = await openOrm(url, { pool: { min: 0, max: 10 } });
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  const hooks = await receiver();
  const data = { id: 1, status: 'booked', reason: 'x'.repeat(300) };
  const body = JSON.stringify({ type: 'appointment.booked', timestamp: new Date().toISOString(), data });
  const ctx = () => serviceContext(orm.em.fork(), SYSTEM, systemClock);
  const worker = { orm, clock: systemClock, log: () => {} };
  try {
    const plain: number[] = [];
    const delivered: number[] = [];
    let fanOutMs = 0;
    for (let round = 0; round < ROUNDS; round++) {
      plain.push(await plainClient(hooks.url, body));
      const hook = await createWebhook(ctx(), { url: hooks.url });
      await sql.query(`select ascend_emit_event('appointment.booked', now(), null, null, $1::jsonb) from generate_series(1, $2)`, [
        JSON.stringify(data),
        EVENTS,
      ]);
      const fanned = performance.now();
      await dispatchOutbox(worker, workerModules);
      fanOutMs = Math.max(fanOutMs, performance.now() - fanned);
      const started = performance.now();
      const sent = await deliverEndpoint(ctx(), hook.id, webhookSettings());
      if (sent.delivered !== EVENTS) throw new Error(`webhooks: ${sent.delivered} of ${EVENTS} delivered`);
      delivered.push(EVENTS / ((performance.now() - started) / 1000));
      await sql.query('update webhook_endpoint set deleted_at = now() where id = $1', [hook.id]);
    }
    const ratio = median(delivered) / median(plain);
    const rows: Row[] = [
      {
        figure: 'webhook deliveries by one endpoint job',
        value: `${median(delivered).toFixed(0)}/s`,
        baseline: `plain client ${median(plain).toFixed(0)}/s`,
        ratio: `${(ratio * 100).toFixed(0)}%`,
        target: '≥ 50%',
        ok: ratio >= 0.5,
      },
      {
        figure: `fan-out of ${EVENTS} events to one endpoint`,
        value: `${fanOutMs.toFixed(0)} ms`,
        baseline: '-',
        ratio: '-',
        target: '-',
        ok: true,
      },
    ];
    printTable(`Webhooks: ${EVENTS} deliveries to a local receiver, ${SENDS_AT_ONCE} at once (${ROUNDS} rounds each, median)`, rows);
    return rows;
  } finally {
    await hooks.close();
    await sql.end();
    await orm.close(true);
  }
}
