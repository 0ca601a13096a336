// Webhooks: what `ascend webhooks …` and `/api/v1/webhooks…` take, and the shapes they answer with.
import { z } from 'zod';
import { oneOfMessage } from '../suggest.js';
import { id, oneLine, pagination } from './common.js';
import { contractRegistry } from './views.js';

/** The event types an endpoint may subscribe to (`webhook.test` is sent on request, to one endpoint, only). */
export const WEBHOOK_EVENT_TYPES = [
  'appointment.booked',
  'appointment.rescheduled',
  'appointment.moved',
  'appointment.cancelled',
  'appointment.completed',
  'appointment.no_show',
  'appointment.reminder',
  'waitlist.offered',
  'waitlist.accepted',
  'waitlist.declined',
  'waitlist.offer_expired',
  'webhook.disabled',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The types to send: known ones, each named once or more (the list as a whole is the field people typed). */
const eventTypes = z.array(oneLine()).superRefine((list, ctx) => {
  for (const value of list) {
    if ((WEBHOOK_EVENT_TYPES as readonly string[]).includes(value)) continue;
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not an event type: ${oneOfMessage(WEBHOOK_EVENT_TYPES, value)}` });
    return;
  }
});

export const createWebhookInput = z.strictObject({
  url: oneLine().min(1).max(2000),
  /** The types to send; absent or null: every type. */
  events: eventTypes
    .min(1, { error: 'must name at least one event type (leave it out for all of them)' })
    .max(WEBHOOK_EVENT_TYPES.length * 2)
    .nullish(),
  /** Only this clinic's events; absent or null: every clinic's. */
  clinicId: id.nullish(),
});
export type CreateWebhookInput = z.input<typeof createWebhookInput>;

export const listWebhooksInput = z.strictObject({ ...pagination });
export type ListWebhooksInput = z.input<typeof listWebhooksInput>;

export const listDeliveriesInput = z.strictObject({
  /** Only the failed ones. */
  failed: z.boolean().default(false),
  ...pagination,
});
export type ListDeliveriesInput = z.input<typeof listDeliveriesInput>;

function named<T extends z.ZodType>(schema: T, name: string, description: string): T {
  contractRegistry.add(schema, { id: name, description });
  return schema;
}

const instant = z.iso.datetime();

export const webhookViewSchema = named(
  z.strictObject({
    id: z.int().positive(),
    url: z.string(),
    events: z.array(z.string()).nullable(),
    clinicId: z.int().positive().nullable(),
    createdAt: instant,
    /** Active: not disabled. (Deleted endpoints are not shown.) */
    active: z.boolean(),
    disabledAt: instant.nullable(),
    disabledReason: z.string().nullable(),
    /** Since when every attempt failed (null: the last one succeeded, or none failed). */
    failingSince: instant.nullable(),
    /** Deliveries still to be made (first tries and retries). */
    pendingDeliveries: z.int().min(0),
  }),
  'Webhook',
  'A webhook endpoint. Its signing secret is shown once, when it is created.',
);
export type WebhookView = z.output<typeof webhookViewSchema>;

export const createdWebhookSchema = named(
  webhookViewSchema.extend({ secret: z.string() }),
  'CreatedWebhook',
  'A new webhook endpoint with its signing secret (whsec_…): shown this once only.',
);
export type CreatedWebhookView = z.output<typeof createdWebhookSchema>;

export const deletedWebhookSchema = named(
  webhookViewSchema.extend({ droppedDeliveries: z.int().min(0) }),
  'DeletedWebhook',
  'The deleted endpoint, and how many pending deliveries were dropped with it.',
);
export type DeletedWebhookView = z.output<typeof deletedWebhookSchema>;

export const webhookDeliveryViewSchema = named(
  z.strictObject({
    id: z.int().positive(),
    endpointId: z.int().positive(),
    /** The event's id: the webhook-id header of every attempt. */
    eventId: z.string(),
    eventType: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.int().min(0),
    /** When it is tried next (pending ones only). */
    nextAttemptAt: instant.nullable(),
    lastStatus: z.int().nullable(),
    lastError: z.string().nullable(),
    createdAt: instant,
    deliveredAt: instant.nullable(),
    failedAt: instant.nullable(),
  }),
  'WebhookDelivery',
  'One event to one endpoint: pending until a 2xx answer, failed when retries ran out.',
);
export type WebhookDeliveryView = z.output<typeof webhookDeliveryViewSchema>;

export const webhookTestSchema = named(
  z.strictObject({ endpointId: z.int().positive(), eventId: z.string(), delivery: webhookDeliveryViewSchema }),
  'WebhookTest',
  'The webhook.test event queued for one endpoint.',
);
export type WebhookTestView = z.output<typeof webhookTestSchema>;
