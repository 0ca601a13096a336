// What goes where and what is due: fan-out (an outbox event becomes one pending delivery per endpoint that
// hears it, and a job per endpoint), and the tick (disabling what failed for a day, queueing endpoints whose
// deliveries fell due or whose leases ran out), and the figures for `worker status`. Sending is ./deliver.ts.
// Every "now" is the context's clock, never the queue's.
import { defined } from '../../domain/invariant.js';
import type { ServiceContext } from '../context.js';
import { transaction } from '../locks.js';
import { emitEvent, type OutboxEvent } from '../outbox.js';
import { query } from '../support.js';
import { queueDelivery } from './endpoints.js';

/** An endpoint whose every attempt failed for this long is disabled. */
export const DISABLE_AFTER_MS = 24 * 60 * 60_000;

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
        where id in (select id from webhook_endpoint e where deleted_at is null and disabled_at is null and failing_since <= ?
                      and not exists (select 1 from webhook_delivery d where d.endpoint_id = e.id and d.delivered_at > e.failing_since)
                    order by id for no key update)
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
