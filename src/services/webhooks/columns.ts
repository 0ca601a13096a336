// The columns webhook views are read from (their mappers are in src/domain/views.ts). The secret is in none:
// only create shows it, once.

/** The endpoint columns a view needs, `e` being webhook_endpoint. */
export const ENDPOINT_COLUMNS = `e.id, e.url, e.events, e.clinic_id, e.created_at, e.disabled_at, e.disabled_reason, e.failing_since,
  (select count(*) from webhook_delivery p where p.endpoint_id = e.id and p.status = 'pending')::int as pending`;

/** The delivery columns a view needs, `d` being webhook_delivery and `o` its outbox_event. */
export const DELIVERY_COLUMNS = `d.id, d.endpoint_id, o.id as event_id, o.type as event_type, d.status, d.attempts, d.next_attempt_at,
  d.last_status, d.last_error, d.created_at, d.delivered_at, d.failed_at`;
