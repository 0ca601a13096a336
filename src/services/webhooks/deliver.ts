// Sending webhooks: an endpoint's due deliveries, claimed by a lease, signed and POSTed, their answers
// recorded. Fan-out and the tick (what is due, what is disabled) are ./schedule.ts. Every "now" is the
// context's clock, never the queue's.
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
import { preparedQuery, query } from '../support.js';
import { type Destination, resolveDestination, type WebhookSettings, webhookSettings } from './policy.js';
import { signedHeaders } from './signing.js';

/** Sent at once per endpoint: a few, over kept-alive connections. */
export const SENDS_AT_ONCE = 4;
/**
 * Sends per sender per claim. The next claim is made while the last few of the previous one are sent (so the
 * senders never wait for it), so a claimed delivery waits behind at most ROUNDS_PER_CLAIM + 1 sends per
 * sender: its lease covers that many timeouts, and a margin.
 */
const ROUNDS_PER_CLAIM = 32;
/** Answers written at once (and the rest when the claimed deliveries are all sent). */
const WRITE_BATCH = 64;
/** A lease outlives the attempt's timeout by this much before another worker may take the delivery. */
const LEASE_MARGIN_MS = 30_000;
const FIRST_RETRY_MS = 30_000;
const LONGEST_RETRY_MS = 60 * 60_000;

/** The pause before the retry after the `attempts`-th attempt failed: 30s, 1m, 2m, 4m, … at most 1h. */
export function retryDelayMs(attempts: number): number {
  return Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1), LONGEST_RETRY_MS);
}

interface Claimed {
  id: string;
  attempts: number;
  created_at: Date | string;
  event_id: string;
  /** The delivery's body, built by the claim from the event as stored: {"type", "timestamp", "data"}. */
  body: string;
}

interface Target {
  url: string;
  secret: string;
  /** failing_since is set (as the claim read it). */
  failing: boolean;
}

/**
 * Takes up to SENDS_AT_ONCE × ROUNDS_PER_CLAIM of the endpoint's due, unleased deliveries, oldest first: leased to
 * this worker for as long as sending them all may take, attempts + 1.
 */
async function claim(ctx: ServiceContext, endpointId: number, settings: WebhookSettings): Promise<{ target: Target; rows: Claimed[] } | null> {
  // One statement (its own transaction): at a few hundred deliveries a second, each round trip of a claim
  // made in steps waited behind the sends' callbacks. Lock order holds: it locks deliveries only.
  const now = ctx.clock.now();
  const rows = await preparedQuery<Claimed & Target>(ctx.em, CLAIM.name, CLAIM.text, [
    endpointId,
    now,
    SENDS_AT_ONCE * ROUNDS_PER_CLAIM,
    new Date(now.getTime() + (ROUNDS_PER_CLAIM + 1) * settings.timeoutMs + LEASE_MARGIN_MS),
  ]);
  const [first] = rows;
  if (!first) {
    const [target] = await query<Target>(
      ctx.em,
      'select url, secret, failing_since is not null as failing from webhook_endpoint where id = ? and deleted_at is null and disabled_at is null',
      [endpointId],
    );
    return target ? { target, rows: [] } : null;
  }
  return { target: { url: first.url, secret: first.secret, failing: first.failing }, rows };
}

const CLAIM = {
  name: 'ascend_webhook_claim',
  text: `with endpoint as (
           select id, url, secret, failing_since is not null as failing from webhook_endpoint where id = $1 and deleted_at is null and disabled_at is null),
         due as (
           select d.id from webhook_delivery d join endpoint e on e.id = d.endpoint_id
            where d.status = 'pending' and d.next_attempt_at <= $2 and (d.lease_until is null or d.lease_until <= $2)
            order by d.next_attempt_at, d.id limit $3 for update of d skip locked),
         claimed as (
           update webhook_delivery d set lease_until = $4, attempts = d.attempts + 1 from due where d.id = due.id
           returning d.id, d.attempts, d.created_at, d.event_seq)
         select c.id, c.attempts, c.created_at, o.id as event_id,
                '{"type":' || to_json(o.type)::text || ',"timestamp":"' || ascend_iso(o.at) || '","data":' || o.data::text || '}' as body,
                e.url, e.secret, e.failing
           from claimed c join outbox_event o on o.seq = c.event_seq cross join endpoint e order by c.id`,
};

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
 * Writes answers: delivered on 2xx; else a retry after the back-off, or failed once the next try would fall
 * past the retry window. The endpoint is failing from its first failure until an answer succeeds. Two
 * statements, each its own transaction and each taking one kind of lock (the endpoint, then its deliveries:
 * the lock order): a crash between them leaves at worst failing_since a batch out of date, and the
 * deliveries pending, to be sent again with the same webhook-id. The endpoint is written only when its
 * state changes (`failing`: as last read or written by this job). Returns how many were delivered.
 */
async function recordAnswers(
  ctx: ServiceContext,
  endpointId: number,
  results: readonly Answer[],
  settings: WebhookSettings,
  failing: boolean,
): Promise<{ delivered: number; failing: boolean }> {
  const now = ctx.clock.now();
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
  if (delivered && failing) await preparedQuery(ctx.em, ENDPOINT_ANSWERS.succeededName, ENDPOINT_ANSWERS.succeeded, [endpointId]);
  if (!delivered && !failing) await preparedQuery(ctx.em, ENDPOINT_ANSWERS.failedName, ENDPOINT_ANSWERS.failed, [now, endpointId]);
  await preparedQuery(ctx.em, RECORD_ANSWERS.name, RECORD_ANSWERS.text, [JSON.stringify(records)]);
  return { delivered, failing: delivered === 0 };
}

const ENDPOINT_ANSWERS = {
  succeededName: 'ascend_webhook_endpoint_succeeded',
  failedName: 'ascend_webhook_endpoint_failed',
  succeeded: 'update webhook_endpoint set failing_since = null where id = $1 and failing_since is not null',
  failed: 'update webhook_endpoint set failing_since = $1 where id = $2 and failing_since is null',
};

// A failure is written only under this attempt's own lease: if it ran out and another worker took the row,
// that worker records it. A success is written whatever happened since (delivered is delivered).
const RECORD_ANSWERS = {
  name: 'ascend_webhook_record_answers',
  text: `update webhook_delivery d set status = r.status, delivered_at = r.delivered_at, failed_at = r.failed_at,
              next_attempt_at = coalesce(r.next_attempt_at, d.next_attempt_at), lease_until = null, last_status = r.last_status, last_error = r.last_error
         from jsonb_to_recordset($1::jsonb) as r (id bigint, attempts int, status text, delivered_at timestamptz, failed_at timestamptz,
              next_attempt_at timestamptz, last_status int, last_error text)
        where d.id = r.id and d.status = 'pending' and (r.status = 'delivered' or d.attempts = r.attempts)`,
};

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
  // Whether the endpoint's failing_since is set: read by each claim, then kept by the writes.
  let failing = false;
  let claimedOnce = false;
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
  // While senders run, only whole batches are written; `written()` writes the rest.
  let finishing = false;
  const nextBatch = (): Answer[] => (answered.length >= WRITE_BATCH || finishing ? answered.splice(0) : []);
  const writer = oneAtATime(async () => {
    for (let batch = nextBatch(); batch.length; batch = nextBatch()) {
      const written = await recordAnswers(ctx, endpointId, batch, settings, failing);
      result.delivered += written.delivered;
      failing = written.failing;
    }
  });
  /** Waits for every answer to be written; then throws what stopped the job (a failed write or claim), if anything did. */
  const written = async () => {
    finishing = true;
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
    // Read once, before any write of this job; after that the job's own writes say (the tick's disabling
    // checks for a delivery since failing_since anyway, so a stale flag can never disable a working endpoint).
    if (!claimedOnce) failing = target.failing;
    claimedOnce = true;
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
      if (queue.length <= (SENDS_AT_ONCE * ROUNDS_PER_CLAIM) / 2 && !noneLeft) void claimer.run();
      const next = queue.shift();
      if (!next) {
        if (noneLeft) return;
        await claimer.run();
        continue;
      }
      const { row, target, destination, refused } = next;
      const { body } = row;
      const headers = signedHeaders(target.secret, row.event_id, ctx.clock.now(), body);
      const outcome: Outcome = destination
        ? await post(destination, destination.url.protocol === 'https:' ? secureAgent : agent, { ...headers }, body, settings.timeoutMs)
        : { error: defined(refused, 'the refusal') };
      result.sent++;
      answered.push({ row, outcome });
      // Answers are written in batches (a write costs about as much for one row as for dozens).
      if (answered.length >= WRITE_BATCH) void writer.run();
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
