import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { createSlotInput, freeSlotsInput, generateSlotsInput, importInput, importRow, listSlotsInput, updateSlotInput } from '../../domain/schemas/slots.js';
import { browseFreeSlots } from '../../services/directory.js';
import { createSlot, deleteSlot, generateSlots, getSlot, importSlots, listSlots, restoreSlot, updateSlot } from '../../services/slots.js';
import { bodyOf, doc, noBody, pathId, queryOf } from '../route.js';

// For the OpenAPI document, the rows' fields; the service parses the body (importInput) and each row.
const importBody = importInput.extend({ rows: z.array(importRow) });

export function registerSlotRoutes(app: FastifyInstance): void {
  const tags = ['slots'];
  app.get('/slots', doc({ tags, summary: 'Slots with their bookings', querystring: listSlotsInput }), async (r) => listSlots(r.ctx, queryOf(r)));
  app.get('/slots/free', doc({ tags, summary: 'Bookable slots, soonest first', querystring: freeSlotsInput }), async (r) => browseFreeSlots(r.ctx, queryOf(r)));
  app.post('/slots', doc({ tags, summary: 'Create one slot', body: createSlotInput, status: 201 }), async (r, reply) =>
    reply.code(201).send(await createSlot(r.ctx, bodyOf(r))),
  );
  app.post('/slots/generate', doc({ tags, summary: 'Generate slots from a schedule or stored hours (idempotent)', body: generateSlotsInput }), async (r) =>
    generateSlots(r.ctx, bodyOf(r)),
  );
  app.post('/slots/import', doc({ tags, summary: 'Import slots: { rows: [{ doctor, start, length | end, capacity }] }', body: importBody }), async (r) =>
    importSlots(r.ctx, bodyOf(r), { unit: 'item' }),
  );
  app.get('/slots/:id', doc({ tags, summary: 'One slot', params: ['id'] }), async (r) => getSlot(r.ctx, pathId(r)));
  app.delete('/slots/:id', doc({ tags, summary: 'Delete (deactivate) a slot; ?cancelBookings=true to cancel its bookings', params: ['id'] }), async (r) =>
    deleteSlot(r.ctx, pathId(r), queryOf(r)),
  );
  app.patch(
    '/slots/:id',
    doc({
      tags,
      summary: 'Change a slot’s times or capacity; a booked slot’s times only with moveBookings (its appointments move with it)',
      body: updateSlotInput,
      params: ['id'],
    }),
    async (r) => updateSlot(r.ctx, pathId(r), bodyOf(r)),
  );
  app.post('/slots/:id/restore', doc({ tags, summary: 'Restore a deleted slot, if it still fits', params: ['id'] }), async (r) => {
    noBody(r);
    return restoreSlot(r.ctx, pathId(r));
  });
}
