import type { FastifyInstance } from 'fastify';
import {
  createdWebhookSchema,
  createWebhookInput,
  deletedWebhookSchema,
  listDeliveriesInput,
  listWebhooksInput,
  webhookDeliveryViewSchema,
  webhookTestSchema,
  webhookViewSchema,
} from '../../domain/schemas/webhooks.js';
import { pageOf } from '../../domain/schemas/views.js';
import { createWebhook, deleteWebhook, listDeliveries, listWebhooks, redeliver, testWebhook } from '../../services/webhooks/endpoints.js';
import { created } from '../idempotency.js';
import { bodyOf, doc, noBody, pathId, queryOf } from '../route.js';

export function registerWebhookRoutes(app: FastifyInstance): void {
  const tags = ['webhooks'];
  app.post(
    '/webhooks',
    doc({
      operationId: 'createWebhook',
      tags,
      summary: 'Create a webhook endpoint (admins); the answer carries its signing secret, shown this once',
      body: createWebhookInput,
      status: 201,
      response: createdWebhookSchema,
      problems: [403, 404],
      idempotent: true,
    }),
    async (r, reply) => created(r, reply, (ctx) => createWebhook(ctx, bodyOf(r))),
  );
  app.get(
    '/webhooks',
    doc({
      operationId: 'listWebhooks',
      tags,
      summary: 'Webhook endpoints (admins)',
      querystring: listWebhooksInput,
      response: pageOf(webhookViewSchema),
      problems: [403],
    }),
    async (r) => listWebhooks(r.ctx, queryOf(r)),
  );
  app.delete(
    '/webhooks/:id',
    doc({
      operationId: 'deleteWebhook',
      tags,
      summary: 'Delete a webhook endpoint; its pending deliveries are dropped (admins)',
      params: ['id'],
      response: deletedWebhookSchema,
      problems: [403],
    }),
    async (r) => deleteWebhook(r.ctx, pathId(r)),
  );
  app.post(
    '/webhooks/:id/test',
    doc({
      operationId: 'testWebhook',
      tags,
      summary: 'Send a webhook.test event to this endpoint only (admins)',
      params: ['id'],
      emptyBody: true,
      status: 202,
      response: webhookTestSchema,
      problems: [403, 409],
    }),
    async (r, reply) => {
      noBody(r);
      return reply.code(202).send(await testWebhook(r.ctx, pathId(r)));
    },
  );
  app.get(
    '/webhooks/:id/deliveries',
    doc({
      operationId: 'listWebhookDeliveries',
      tags,
      summary: 'An endpoint’s deliveries, newest first; failed=true for the failed ones (admins)',
      params: ['id'],
      querystring: listDeliveriesInput,
      response: pageOf(webhookDeliveryViewSchema),
      problems: [403],
    }),
    async (r) => listDeliveries(r.ctx, pathId(r), queryOf(r)),
  );
  app.post(
    '/webhooks/deliveries/:id/redeliver',
    doc({
      operationId: 'redeliverWebhook',
      tags,
      summary: 'Send a delivery again, with the same webhook-id (admins)',
      params: ['id'],
      emptyBody: true,
      status: 202,
      response: webhookDeliveryViewSchema,
      problems: [403, 409],
    }),
    async (r, reply) => {
      noBody(r);
      return reply.code(202).send(await redeliver(r.ctx, pathId(r)));
    },
  );
}
