// Webhook endpoints: create, list, delete, test; their deliveries: list, redeliver. Admins only.
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import { defined } from '../../domain/invariant.js';
import { actorId, requireRole } from '../../domain/roles.js';
import type { Page } from '../../domain/schemas/common.js';
import {
  type CreatedWebhookView,
  type CreateWebhookInput,
  createWebhookInput,
  type DeletedWebhookView,
  type ListDeliveriesInput,
  listDeliveriesInput,
  type ListWebhooksInput,
  listWebhooksInput,
  type WebhookDeliveryView,
  type WebhookTestView,
  type WebhookView,
} from '../../domain/schemas/webhooks.js';
import { parseInput, type Untrusted } from '../../domain/validation.js';
import { addJob } from '../../worker/jobs.js';
import { audit } from '../audit.js';
import type { ServiceContext } from '../context.js';
import { transaction } from '../locks.js';
import { emitEvent } from '../outbox.js';
import { pageOfRows, query } from '../support.js';
import { resolveDestination, webhookSettings } from './policy.js';
import { newSecret } from './signing.js';
import { type DeliveryRow, deliveryView, type EndpointRow, webhookView } from '../../domain/views.js';
import { DELIVERY_COLUMNS, ENDPOINT_COLUMNS } from './columns.js';

const ACTION = 'managing webhooks';

/** The one job per endpoint that sends its due deliveries (a second request while one waits is the same job). */
export const DELIVER_TASK = 'webhook.deliver';
export const deliverJobKey = (endpointId: number): string => `webhook:${endpointId}`;

export async function queueDelivery(tx: ServiceContext, endpointId: number): Promise<void> {
  await addJob(tx.em, DELIVER_TASK, { endpointId }, { jobKey: deliverJobKey(endpointId) });
}

async function endpointRow(ctx: ServiceContext, id: number, lock = false): Promise<EndpointRow> {
  const [row] = await query<EndpointRow>(
    ctx.em,
    `select ${ENDPOINT_COLUMNS} from webhook_endpoint e where e.id = ? and e.deleted_at is null${lock ? ' for no key update' : ''}`,
    [id],
  );
  if (!row) throw new NotFoundError('webhook', id);
  return row;
}

/** Creates an endpoint; its secret is in this answer and in no other. */
export async function createWebhook(ctx: ServiceContext, raw: CreateWebhookInput | Untrusted): Promise<CreatedWebhookView> {
  requireRole(ctx.actor, ['admin'], ACTION);
  const input = parseInput(createWebhookInput, raw);
  const url = (await resolveDestination(input.url, webhookSettings())).url.toString();
  const events = input.events ? [...new Set(input.events)] : null;
  return transaction(ctx, async (tx) => {
    if (input.clinicId != null) {
      const [clinic] = await query(tx.em, 'select id from clinic where id = ? for share', [input.clinicId]);
      if (!clinic) throw new NotFoundError('clinic', input.clinicId, 'clinicId');
    }
    const secret = newSecret();
    const [created] = await query<{ id: number }>(
      tx.em,
      `insert into webhook_endpoint (url, events, clinic_id, secret, created_at, created_by) values (?, ?::text[], ?, ?, ?, ?) returning id`,
      [url, events ? `{${events.join(',')}}` : null, input.clinicId ?? null, secret, tx.clock.now(), actorId(tx.actor)],
    );
    const id = defined(created, 'the new endpoint').id;
    const view = webhookView(await endpointRow(tx, id));
    audit(tx, { action: 'webhook.create', entity: 'webhook', entityId: id, after: view });
    return { ...view, secret };
  });
}

/** Endpoints that are not deleted (disabled ones too), oldest first. */
export async function listWebhooks(ctx: ServiceContext, raw: ListWebhooksInput | Untrusted = {}): Promise<Page<WebhookView>> {
  requireRole(ctx.actor, ['admin'], ACTION);
  const input = parseInput(listWebhooksInput, raw);
  const { rows, total } = await pageOfRows<EndpointRow & { total: string }>(
    ctx.em,
    `select ${ENDPOINT_COLUMNS}, count(*) over () as total from webhook_endpoint e where e.deleted_at is null order by e.id`,
    [],
    input.limit,
    input.offset,
  );
  return { items: rows.map(webhookView), total, limit: input.limit, offset: input.offset };
}

export async function getWebhook(ctx: ServiceContext, id: number): Promise<WebhookView> {
  requireRole(ctx.actor, ['admin'], ACTION);
  return webhookView(await endpointRow(ctx, id));
}

/** Deletes an endpoint: nothing more is sent to it, and its pending deliveries are dropped (its history stays). */
export async function deleteWebhook(ctx: ServiceContext, id: number): Promise<DeletedWebhookView> {
  requireRole(ctx.actor, ['admin'], ACTION);
  return transaction(ctx, async (tx) => {
    const view = webhookView(await endpointRow(tx, id, true));
    await query(tx.em, 'update webhook_endpoint set deleted_at = ? where id = ?', [tx.clock.now(), id]);
    const dropped = await query(tx.em, `delete from webhook_delivery where endpoint_id = ? and status = 'pending' returning id`, [id]);
    audit(tx, { action: 'webhook.delete', entity: 'webhook', entityId: id, before: view });
    return { ...view, pendingDeliveries: 0, droppedDeliveries: dropped.length };
  });
}

async function deliveryRow(ctx: ServiceContext, id: number): Promise<DeliveryRow> {
  const [row] = await query<DeliveryRow>(
    ctx.em,
    `select ${DELIVERY_COLUMNS} from webhook_delivery d join outbox_event o on o.seq = d.event_seq
       join webhook_endpoint e on e.id = d.endpoint_id and e.deleted_at is null where d.id = ?`,
    [id],
  );
  if (!row) throw new NotFoundError('delivery', id);
  return row;
}

/**
 * Sends a `webhook.test` event to this endpoint alone: the event is in the outbox like any other, and its one
 * delivery is written here (fan-out skips webhook.test), so it commits with the event.
 */
export async function testWebhook(ctx: ServiceContext, id: number): Promise<WebhookTestView> {
  requireRole(ctx.actor, ['admin'], ACTION);
  return transaction(ctx, async (tx) => {
    const endpoint = await endpointRow(tx, id, true);
    if (endpoint.disabled_at !== null) throw new ConflictError(`webhook ${id} is disabled (${endpoint.disabled_reason ?? 'no reason given'})`);
    const now = tx.clock.now();
    const eventId = await emitEvent(tx, {
      type: 'webhook.test',
      clinicId: endpoint.clinic_id,
      appointmentId: null,
      data: { endpointId: id, message: 'A test event from ascend: this endpoint receives its webhooks.' },
    });
    // Found by the seq ascend_emit_event just drew in this session (outbox_event has no index on its id).
    const [row] = await query<{ id: string }>(
      tx.em,
      `insert into webhook_delivery (endpoint_id, event_seq, status, attempts, next_attempt_at, created_at)
       select ?, seq, 'pending', 0, ?, ? from outbox_event where seq = currval('outbox_event_seq_seq') and id = ? returning id`,
      [id, now, now, eventId],
    );
    await queueDelivery(tx, id);
    return { endpointId: id, eventId, delivery: deliveryView(await deliveryRow(tx, Number(defined(row, 'the test delivery').id))) };
  });
}

/** An endpoint's deliveries, newest first (only the failed ones with `failed`). */
export async function listDeliveries(ctx: ServiceContext, endpointId: number, raw: ListDeliveriesInput | Untrusted = {}): Promise<Page<WebhookDeliveryView>> {
  requireRole(ctx.actor, ['admin'], ACTION);
  const input = parseInput(listDeliveriesInput, raw);
  await endpointRow(ctx, endpointId);
  const { rows, total } = await pageOfRows<DeliveryRow & { total: string }>(
    ctx.em,
    `select ${DELIVERY_COLUMNS}, count(*) over () as total from webhook_delivery d join outbox_event o on o.seq = d.event_seq
      where d.endpoint_id = ? and (not ? or d.status = 'failed') order by d.id desc`,
    [endpointId, input.failed],
    input.limit,
    input.offset,
  );
  return { items: rows.map(deliveryView), total, limit: input.limit, offset: input.offset };
}

/**
 * Sends a delivery again (a failed one, or a delivered one the receiver lost), as a new round: pending now,
 * attempts and the retry window starting afresh. The event is the same, so is its webhook-id.
 */
export async function redeliver(ctx: ServiceContext, deliveryId: number): Promise<WebhookDeliveryView> {
  requireRole(ctx.actor, ['admin'], ACTION);
  return transaction(ctx, async (tx) => {
    const found = await deliveryRow(tx, deliveryId);
    const endpoint = await endpointRow(tx, found.endpoint_id, true);
    if (endpoint.disabled_at !== null) {
      throw new ConflictError(`webhook ${endpoint.id} is disabled (${endpoint.disabled_reason ?? 'no reason given'}): its deliveries are not sent`);
    }
    const now = tx.clock.now();
    const [reset] = await query(
      tx.em,
      `update webhook_delivery set status = 'pending', attempts = 0, next_attempt_at = ?, lease_until = null, created_at = ?,
              delivered_at = null, failed_at = null where id = ? and status <> 'pending' returning id`,
      [now, now, deliveryId],
    );
    if (!reset) throw new ConflictError(`delivery ${deliveryId} is still pending: it is sent (or retried) anyway`);
    await queueDelivery(tx, endpoint.id);
    return deliveryView(await deliveryRow(tx, deliveryId));
  });
}
