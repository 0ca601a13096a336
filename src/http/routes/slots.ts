import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { createSlotInput, deleteSlotInput, freeSlotsInput, generateSlotsInput, importInput, importRow, listSlotsInput } from '../../domain/schemas/slots.js';
import { createSlot, deleteSlot, freeSlots, generateSlots, getSlot, importSlots, listSlots } from '../../services/slots.js';
import { bulkResultSchema, pageOf, slotRemovalSchema, slotViewSchema } from '../../domain/schemas/views.js';
import { created } from '../idempotency.js';
import { bodyOf, doc, pathId, queryOf } from '../route.js';

// For the OpenAPI document, the rows' fields; the service parses the body (importInput) and each row.
const importBody = importInput.extend({ rows: z.array(importRow) });

export function registerSlotRoutes(app: FastifyInstance): void {
  const tags = ['slots'];
  app.get(
    '/slots',
    doc({
      operationId: 'listSlots',
      tags,
      summary: 'Slots with their bookings',
      querystring: listSlotsInput,
      response: pageOf(slotViewSchema),
      problems: [404],
    }),
    async (r) => listSlots(r.ctx, queryOf(r)),
  );
  app.get(
    '/slots/free',
    doc({
      operationId: 'listFreeSlots',
      tags,
      summary: 'Bookable slots, soonest first',
      querystring: freeSlotsInput,
      response: pageOf(slotViewSchema),
      problems: [404],
    }),
    async (r) => freeSlots(r.ctx, queryOf(r)),
  );
  app.post(
    '/slots',
    doc({
      operationId: 'createSlot',
      tags,
      summary: 'Create one slot',
      body: createSlotInput,
      status: 201,
      response: slotViewSchema,
      problems: [403, 404, 409],
      idempotent: true,
    }),
    async (r, reply) => created(r, reply, (ctx) => createSlot(ctx, bodyOf(r))),
  );
  app.post(
    '/slots/generate',
    doc({
      operationId: 'generateSlots',
      tags,
      summary: 'Generate slots from a schedule or stored hours (idempotent)',
      body: generateSlotsInput,
      response: bulkResultSchema,
      problems: [403, 404, 409],
    }),
    async (r) => generateSlots(r.ctx, bodyOf(r)),
  );
  app.post(
    '/slots/import',
    doc({
      operationId: 'importSlots',
      tags,
      summary: 'Import slots: { rows: [{ doctor, start, length | end, capacity }] }',
      body: importBody,
      response: bulkResultSchema,
      problems: [403, 404, 409],
    }),
    async (r) => importSlots(r.ctx, bodyOf(r), { unit: 'item' }),
  );
  app.get('/slots/:id', doc({ operationId: 'getSlot', tags, summary: 'One slot', params: ['id'], response: slotViewSchema }), async (r) =>
    getSlot(r.ctx, pathId(r)),
  );
  app.delete(
    '/slots/:id',
    doc({
      operationId: 'deleteSlot',
      tags,
      summary: 'Delete (deactivate) a slot; ?cancelBookings=true to cancel its bookings',
      params: ['id'],
      querystring: deleteSlotInput,
      response: slotRemovalSchema,
      problems: [403, 409],
    }),
    async (r) => deleteSlot(r.ctx, pathId(r), queryOf(r)),
  );
}
