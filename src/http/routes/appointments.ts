import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { bookInput, cancelInput, listAppointmentsInput, noteInput, rescheduleInput } from '../../domain/schemas/appointments.js';
import { ValidationError } from '../../domain/errors.js';
import {
  bookAppointment,
  cancelAppointment,
  completeAppointment,
  getAppointment,
  listAppointments,
  markNoShow,
  noteAppointment,
  rescheduleAppointment,
} from '../../services/appointments.js';
import { exportCalendar } from '../../services/calendar.js';
import { untrusted } from '../../domain/validation.js';
import { bodyFields, bodyOf, doc, noBody, pathId, queryOf } from '../route.js';

const bookBody = bookInput.omit({ idempotencyKey: true });

export function registerAppointmentRoutes(app: FastifyInstance): void {
  const tags = ['appointments'];
  app.get('/appointments', doc({ tags, summary: 'The appointments you may see', querystring: listAppointmentsInput }), async (r) =>
    listAppointments(r.ctx, queryOf(r)),
  );

  // A retry with the same Idempotency-Key and body gets the first booking back; another body is a 422.
  app.post(
    '/appointments',
    doc({ tags, summary: 'Book a slot, or `slots` consecutive slots as one visit (header Idempotency-Key makes retries safe)', body: bookBody, status: 201 }),
    async (r, reply) => {
      const body = bodyFields(r);
      if ('idempotencyKey' in body) throw new ValidationError('is not a known field (send the Idempotency-Key header)', 'idempotencyKey');
      const key = r.headers['idempotency-key'];
      if (Array.isArray(key)) throw new ValidationError('may be given once', 'Idempotency-Key');
      return reply.code(201).send(await bookAppointment(r.ctx, untrusted({ ...body, ...(key !== undefined ? { idempotencyKey: key } : {}) })));
    },
  );

  app.get(
    '/appointments.ics',
    doc({ tags, summary: 'The appointments you may see, as iCalendar', querystring: listAppointmentsInput.omit({ limit: true, offset: true }) }),
    async (r, reply) => reply.type('text/calendar; charset=utf-8').send(await exportCalendar(r.ctx, queryOf(r))),
  );

  app.get('/appointments/:id', doc({ tags, summary: 'One appointment (404 for those you may not see)', params: ['id'] }), async (r) =>
    getAppointment(r.ctx, pathId(r)),
  );
  app.post('/appointments/:id/cancel', doc({ tags, summary: 'Cancel and free the place', body: cancelInput, params: ['id'] }), async (r) =>
    cancelAppointment(r.ctx, pathId(r), bodyOf(r)),
  );
  app.post('/appointments/:id/reschedule', doc({ tags, summary: 'Move to another slot, atomically', body: rescheduleInput, params: ['id'] }), async (r) =>
    rescheduleAppointment(r.ctx, pathId(r), bodyOf(r)),
  );
  app.post(
    '/appointments/:id/complete',
    doc({ tags, summary: 'Mark completed (its doctor or an admin)', body: z.strictObject({}), params: ['id'] }),
    async (r) => {
      noBody(r);
      return completeAppointment(r.ctx, pathId(r));
    },
  );
  app.post(
    '/appointments/:id/no-show',
    doc({ tags, summary: 'Mark a no-show (its doctor or an admin)', body: z.strictObject({}), params: ['id'] }),
    async (r) => {
      noBody(r);
      return markNoShow(r.ctx, pathId(r));
    },
  );
  app.post('/appointments/:id/notes', doc({ tags, summary: 'The doctor’s notes on the visit', body: noteInput, params: ['id'] }), async (r) =>
    noteAppointment(r.ctx, pathId(r), bodyOf(r)),
  );
}
