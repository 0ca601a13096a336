// Delivering webhooks: fan-out (an outbox event becomes one delivery row per endpoint that hears it), sending
// (an endpoint's due rows, claimed by a lease, signed and POSTed), and the tick (re-queueing what fell due,
// disabling what failed for a day). Every "now" is the context's clock, never the queue's.
//
// Per endpoint one job at a time (job key webhook:<id>): a slow or dead endpoint holds up its own job only,
// and each attempt has a timeout. Transactions stay short: claim (lease + attempts), send outside any
// transaction, then record each answer on its own. A worker killed mid-send leaves the lease, which runs out;
// the tick queues the endpoint again, and the event goes out again with the same webhook-id (at least once).
//
// Locks: an endpoint row (FOR NO KEY UPDATE: delete, redeliver, test, disabling, recording an answer) before
// its deliveries; claiming locks deliveries only (SKIP LOCKED). Fan-out's inserts take KEY SHARE on the
// endpoint through the foreign key, which none of those conflicts with.
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { defined } from '../../domain/invariant.js';
import type { ServiceContext } from '../context.js';
import { transaction } from '../locks.js';
import { emitEvent, type OutboxEvent } from '../outbox.js';
import { query } from '../support.js';
import { queueDelivery } from './endpoints.js';
import { type Destination, resolveDestination, type WebhookSettings, webhookSettings } from './policy.js';
import { signedHeaders } from './signing.js';

/** Sent at once per endpoint: a few, over kept-alive connections. */
export const SENDS_AT_ONCE = 4;
/**
 * Sends per sender per claim. The next claim is made while the last few of the previous one are sent (so the
 * senders never wait for it), so a claimed delivery waits behind at most ROUNDS_PER_CLAIM + 1 sends per
 * sender: its lease covers that many timeouts, and a margin.
 */
const ROUNDS_PER_CLAIM = 8;
/** A lease outlives the attempt's timeout by this much before another worker may take the delivery. */
const LEASE_MARGIN_MS = 30_000;
const FIRST_RETRY_MS = 30_000;
const LONGEST_RETRY_MS = 60 * 60_000;
/** An endpoint whose every attempt failed for this long is disabled. */
export const DISABLE_AFTER_MS = 24 * 60 * 60_000;

/** The pause before the retry after the `attempts`-th attempt failed: 30s, 1m, 2m, 4m, … at most 1h. */
export function retryDelayMs(attempts: number): number {
  return Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1), LONGEST_RETRY_MS);
}

const pgArray = (values: readonly (string | number | null)[]): string =>
  `{${values.map((v) => (v === null ? 'NULL' : `"${String(v).replace(/["\\]/g, '\\$&')}"`)).join(',')}}`;

/**
 * Fan-out, in the transaction that dispatches `events`: one pending delivery per active endpoint hearing each
 * (its types, or all; its clinic, or all), and one job per endpoint touched. `webhook.test` events are written
 * with their one delivery by testWebhook, and skipped here.
 */
export async function fanOut(tx: ServiceContext, events: readonly OutboxEvent[]): Promise<number[]> {
  const heard = events.filter((e) => e.type !== 'webhook.test');
  if (!heard.length) return [];
  const now = tx.clock.now();
  const rows = await query<{ endpoint_id: number }>(
    tx.em,
    `insert into webhook_delivery (endpoint_id, event_seq, status, attempts, next_attempt_at, created_at)
     select e.id, ev.seq, 'pending', 0, ?, ?
       from unnest(?::bigint[], ?::text[], ?::int[]) as ev (seq, type, clinic_id)
       join webhook_endpoint e on e.deleted_at is null and e.disabled_at is null
        and (e.events is null or ev.type = any (e.events)) and (e.clinic_id is null or e.clinic_id = ev.clinic_id)
     order by e.id, ev.seq
     on conflict (endpoint_id, event_seq) do nothing
     returning endpoint_id`,
    [now, now, pgArray(heard.map((e) => e.seq)), pgArray(heard.map((e) => e.type)), pgArray(heard.map((e) => e.clinicId))],
  );
  const endpoints = [...new Set(rows.map((r) => r.endpoint_id))].sort((a, b) => a - b);
  for (const id of endpoints) await queueDelivery(tx, id);
  return endpoints;
}

interface Claimed {
  id: string;
  attempts: number;
  created_at: Date | string;
  event_id: string;
  type: string;
  at: Date | string;
  data: unknown;
}

interface Target {
  url: string;
  secret: string;
}

/**
 * Takes up to SENDS_AT_ONCE × ROUNDS_PER_CLAIM of the endpoint's due, unleased deliveries, oldest first: leased to
 * this worker for as long as sending them all may take, attempts + 1.
 */
async function claim(ctx: ServiceContext, endpointId: number, settings: WebhookSettings): Promise<{ target: Target; rows: Claimed[] } | null> {
  return transaction(ctx, async (tx) => {
    const now = tx.clock.now();
    const [target] = await query<Target>(tx.em, 'select url, secret from webhook_endpoint where id = ? and deleted_at is null and disabled_at is null', [
      endpointId,
    ]);
    if (!target) return null;
    const rows = await query<Claimed>(
      tx.em,
      `with due as (
         select id from webhook_delivery
          where endpoint_id = ? and status = 'pending' and next_attempt_at <= ? and (lease_until is null or lease_until <= ?)
          order by next_attempt_at, id limit ? for update skip locked),
       claimed as (
         update webhook_delivery d set lease_until = ?, attempts = d.attempts + 1 from due where d.id = due.id
         returning d.id, d.attempts, d.created_at, d.event_seq)
       select c.id, c.attempts, c.created_at, o.id as event_id, o.type, o.at, o.data
         from claimed c join outbox_event o on o.seq = c.event_seq order by c.id`,
      [endpointId, now, now, SENDS_AT_ONCE * ROUNDS_PER_CLAIM, new Date(now.getTime() + (ROUNDS_PER_CLAIM + 1) * settings.timeoutMs + LEASE_MARGIN_MS)],
    );
    return { target, rows };
  });
}

interface Outcome {
  status?: number;
  error?: string;
}

/** One POST to the checked address (Host and TLS name stay the URL's), ended after `timeoutMs` whatever happens. */
function post(destination: Destination, agent: http.Agent, headers: Record<string, string>, body: string, timeoutMs: number): Promise<Outcome> {
  const { address, family } = destination;
  // Connect to the address that was checked, never to what the name resolves to a moment later.
  const pinned: LookupFunction = (_host, options, done) => {
    if (options.all) done(null, [{ address, family }]);
    else done(null, address, family);
  };
  return new Promise((resolve) => {
    const request = (destination.url.protocol === 'https:' ? https : http).request(destination.url, {
      method: 'POST',
      agent,
      lookup: pinned,
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'ascend-webhooks/1' },
    });
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs / 1000}s`)), timeoutMs);
    request.on('response', (response) => {
      response.resume();
      response.on('end', () => {
        clearTimeout(timer);
        resolve({ status: response.statusCode ?? 0 });
      });
      response.on('error', (err) => {
        clearTimeout(timer);
        resolve({ status: response.statusCode ?? 0, error: err.message });
      });
    });
    request.on('error', (err) => {
      clearTimeout(timer);
      resolve({ error: err.message || String(err) });
    });
    request.end(body);
  });
}

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').slice(0, 500);

const succeeded = (o: Outcome): boolean => o.status !== undefined && o.status >= 200 && o.status < 300 && !o.error;

interface Answer {
  row: Claimed;
  outcome: Outcome;
}

/**
 * Writes answers in one short transaction: delivered on 2xx; else a retry after the back-off, or
 * failed once the next try would fall past the retry window. The endpoint is failing from its first failure
 * until an answer succeeds. Returns how many were delivered.
 */
async function recordAnswers(ctx: ServiceContext, endpointId: number, results: readonly Answer[], settings: WebhookSettings): Promise<number> {
  return transaction(ctx, async (tx) => {
    const now = tx.clock.now();
    const records = results.map(({ row, outcome }) => {
      if (succeeded(outcome)) return { id: row.id, attempts: row.attempts, status: 'delivered', delivered_at: now, last_status: outcome.status };
      const next = now.getTime() + retryDelayMs(row.attempts);
      const giveUp = next > new Date(row.created_at).getTime() + settings.retryForMs;
      return {
        id: row.id,
        attempts: row.attempts,
        status: giveUp ? 'failed' : 'pending',
        failed_at: giveUp ? now : null,
        next_attempt_at: giveUp ? null : new Date(next),
        last_status: outcome.status ?? null,
        last_error: outcome.error ? oneLine(outcome.error) : `answered ${outcome.status}`,
      };
    });
    const delivered = records.filter((r) => r.status === 'delivered').length;
    // Lock order: the endpoint, then its deliveries (as delete and redeliver take them).
    await query(
      tx.em,
      delivered
        ? 'update webhook_endpoint set failing_since = null where id = ? and failing_since is not null'
        : 'update webhook_endpoint set failing_since = ? where id = ? and failing_since is null',
      delivered ? [endpointId] : [now, endpointId],
    );
    // A failure is written only under this attempt's own lease: if it ran out and another worker took the row,
    // that worker records it. A success is written whatever happened since (delivered is delivered).
    await query(
      tx.em,
      `update webhook_delivery d set status = r.status, delivered_at = r.delivered_at, failed_at = r.failed_at,
              next_attempt_at = coalesce(r.next_attempt_at, d.next_attempt_at), lease_until = null, last_status = r.last_status, last_error = r.last_error
         from jsonb_to_recordset(?::jsonb) as r (id bigint, attempts int, status text, delivered_at timestamptz, failed_at timestamptz,
              next_attempt_at timestamptz, last_status int, last_error text)
        where d.id = r.id and d.status = 'pending' and (r.status = 'delivered' or d.attempts = r.attempts)`,
      [JSON.stringify(records)],
    );
    return delivered;
  });
}

export interface DeliveryRound {
  sent: number;
  delivered: number;
}

/**
 * The job of one endpoint: claims its due deliveries, sends them a few at a time over kept-alive connections,
 * writes the answers as they come, and goes on until none is due. The address is resolved and checked again for each claim.
 */
export async function deliverEndpoint(ctx: ServiceContext, endpointId: number, settings: WebhookSettings = webhookSettings()): Promise<DeliveryRound> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: SENDS_AT_ONCE });
  const secureAgent = new https.Agent({ keepAlive: true, maxSockets: SENDS_AT_ONCE });
  const result: DeliveryRound = { sent: 0, delivered: 0 };
  // Answers are written while the next ones are sent: one write at a time, each taking every answer that
  // came in meanwhile (a commit costs more than a send on a local network).
  const answered: Answer[] = [];
  let failure: { error: unknown } | undefined;
  /** `work` run once at a time: a call while it runs joins that run; a throw stops the job (kept in `failure`). */
  const oneAtATime = (work: () => Promise<void>) => {
    let running: Promise<void> | undefined;
    return {
      run: (): Promise<void> => {
        running ??= work()
          .catch((error: unknown) => {
            failure ??= { error };
          })
          .finally(() => {
            running = undefined;
          });
        return running;
      },
      busy: () => running !== undefined,
    };
  };
  const writer = oneAtATime(async () => {
    for (let batch = answered.splice(0); batch.length; batch = answered.splice(0)) result.delivered += await recordAnswers(ctx, endpointId, batch, settings);
  });
  /** Waits for every answer to be written; then throws what stopped the job (a failed write or claim), if anything did. */
  const written = async () => {
    while (writer.busy() || answered.length) await writer.run();
    if (failure) throw failure.error;
  };
  // Claimed deliveries waiting for a sender, with where to send them (checked again for each claim).
  const queue: { row: Claimed; target: Target; destination?: Destination; refused?: string }[] = [];
  let noneLeft = false;
  const claimer = oneAtATime(async () => {
    const claimed = await claim(ctx, endpointId, settings);
    if (!claimed?.rows.length) {
      noneLeft = true;
      return;
    }
    const { target, rows } = claimed;
    let destination: Destination | undefined;
    let refused: string | undefined;
    try {
      destination = await resolveDestination(target.url, settings);
    } catch (err) {
      refused = err instanceof Error ? err.message : String(err);
    }
    for (const row of rows) queue.push({ row, target, ...(destination ? { destination } : { refused: defined(refused, 'the refusal') }) });
  });
  // SENDS_AT_ONCE senders, each taking the next claimed delivery when its last one is answered; the next claim
  // is made while the last few are sent.
  const sender = async () => {
    while (!failure) {
      if (queue.length <= SENDS_AT_ONCE && !noneLeft) void claimer.run();
      const next = queue.shift();
      if (!next) {
        if (noneLeft) return;
        await claimer.run();
        continue;
      }
      const { row, target, destination, refused } = next;
      const body = JSON.stringify({ type: row.type, timestamp: new Date(row.at).toISOString(), data: row.data });
      const headers = signedHeaders(target.secret, row.event_id, ctx.clock.now(), body);
      const outcome: Outcome = destination
        ? await post(destination, destination.url.protocol === 'https:' ? secureAgent : agent, { ...headers }, body, settings.timeoutMs)
        : { error: defined(refused, 'the refusal') };
      result.sent++;
      answered.push({ row, outcome });
      void writer.run();
    }
  };
  try {
    await Promise.all(Array.from({ length: SENDS_AT_ONCE }, sender));
    await written();
    return result;
  } finally {
    agent.destroy();
    secureAgent.destroy();
  }
}

/**
 * Disables the endpoints whose every attempt failed for DISABLE_AFTER_MS, each with a `webhook.disabled` event
 * in the same transaction; their pending deliveries are failed (nothing is sent to a disabled endpoint).
 */
export async function disableFailingEndpoints(ctx: ServiceContext): Promise<number[]> {
  return transaction(ctx, async (tx) => {
    const now = tx.clock.now();
    const disabled = await query<{ id: number; url: string; clinic_id: number | null; failing_since: Date | string }>(
      tx.em,
      `update webhook_endpoint set disabled_at = ?, disabled_reason = 'every delivery failed for a day (since ' || to_char(failing_since at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')'
        where id in (select id from webhook_endpoint where deleted_at is null and disabled_at is null and failing_since <= ? order by id for no key update)
        returning id, url, clinic_id, failing_since, disabled_reason`,
      [now, new Date(now.getTime() - DISABLE_AFTER_MS)],
    );
    for (const endpoint of disabled) {
      await query(
        tx.em,
        `update webhook_delivery set status = 'failed', failed_at = ?, lease_until = null, last_error = coalesce(last_error, 'the endpoint was disabled')
          where endpoint_id = ? and status = 'pending'`,
        [now, endpoint.id],
      );
      await emitEvent(tx, {
        type: 'webhook.disabled',
        clinicId: endpoint.clinic_id,
        appointmentId: null,
        data: {
          endpointId: endpoint.id,
          url: endpoint.url,
          failingSince: new Date(endpoint.failing_since).toISOString(),
          disabledAt: now.toISOString(),
        },
      });
    }
    return disabled.map((e) => e.id);
  });
}

/** The tick: disable what failed for a day, then queue a job for every endpoint with a delivery due and unleased. */
export async function webhooksTick(ctx: ServiceContext): Promise<{ disabled: number[]; queued: number[] }> {
  const disabled = await disableFailingEndpoints(ctx);
  const queued = await transaction(ctx, async (tx) => {
    const now = tx.clock.now();
    const due = await query<{ endpoint_id: number }>(
      tx.em,
      `select distinct d.endpoint_id from webhook_delivery d
         join webhook_endpoint e on e.id = d.endpoint_id and e.deleted_at is null and e.disabled_at is null
        where d.status = 'pending' and d.next_attempt_at <= ? and (d.lease_until is null or d.lease_until <= ?)
        order by d.endpoint_id`,
      [now, now],
    );
    for (const { endpoint_id } of due) await queueDelivery(tx, endpoint_id);
    return due.map((d) => d.endpoint_id);
  });
  return { disabled, queued };
}

/** Figures for `worker status`. */
export async function webhookFigures(ctx: ServiceContext): Promise<Record<string, number | string | null>> {
  const [row] = await query<{ pending: number; failed: number; disabled: number; oldest: Date | string | null }>(
    ctx.em,
    `select (select count(*) from webhook_delivery where status = 'pending')::int as pending,
            (select count(*) from webhook_delivery where status = 'failed')::int as failed,
            (select count(*) from webhook_endpoint where disabled_at is not null and deleted_at is null)::int as disabled,
            (select min(created_at) from webhook_delivery where status = 'pending') as oldest`,
  );
  const r = defined(row, 'the webhook figures');
  return {
    pendingDeliveries: r.pending,
    failedDeliveries: r.failed,
    disabledEndpoints: r.disabled,
    oldestPendingDelivery: r.oldest === null ? null : new Date(r.oldest).toISOString(),
  };
}
