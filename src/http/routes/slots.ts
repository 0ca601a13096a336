import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  createSlotInput,
  deleteSlotInput,
  freeSlotsInput,
  generateSlotsInput,
  importInput,
  importRow,
  listSlotsInput,
  publicSlotView,
  updatedSlotView,
  updateSlotInput,
} from '../../domain/schemas/slots.js';
import { browseFreeSlots } from '../../services/directory.js';
import { createSlot, deleteSlot, generateSlots, getSlot, importSlots, listSlots, restoreSlot, updateSlot } from '../../services/slots.js';
import { bulkResultSchema, pageOf, slotRemovalSchema, slotViewSchema } from '../../domain/schemas/views.js';
import { created } from '../idempotency.js';
import { bodyOf, doc, noBody, pathId, queryOf } from '../route.js';

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
      summary: 'Bookable slots, soonest first (with serve --public-directory, anonymous callers get public views)',
      querystring: freeSlotsInput,
      response: pageOf(z.union([slotViewSchema, publicSlotView])),
      problems: [404],
    }),
    async (r) => browseFreeSlots(r.ctx, queryOf(r)),
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
  app.patch(
    '/slots/:id',
    doc({
      operationId: 'updateSlot',
      tags,
      summary: 'Change a slot’s times or capacity; a booked slot’s times only with moveBookings (its appointments move with it)',
      body: updateSlotInput,
      params: ['id'],
      response: updatedSlotView,
      problems: [403, 409],
    }),
    async (r) => updateSlot(r.ctx, pathId(r), bodyOf(r)),
  );
  app.post(
    '/slots/:id/restore',
    doc({
      operationId: 'restoreSlot',
      tags,
      summary: 'Restore a deleted slot, if it still fits',
      params: ['id'],
      emptyBody: true,
      response: slotViewSchema,
      problems: [403, 409],
    }),
    async (r) => {
      noBody(r);
      return restoreSlot(r.ctx, pathId(r));
    },
  );
}
