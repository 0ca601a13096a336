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
import { appointmentViewSchema, pageOf } from '../../domain/schemas/views.js';
import { bodyFields, bodyOf, doc, noBody, pathId, queryOf } from '../route.js';

const bookBody = bookInput.omit({ idempotencyKey: true });

export function registerAppointmentRoutes(app: FastifyInstance): void {
  const tags = ['appointments'];
  app.get(
    '/appointments',
    doc({
      operationId: 'listAppointments',
      tags,
      summary: 'The appointments you may see',
      querystring: listAppointmentsInput,
      response: pageOf(appointmentViewSchema),
      problems: [403, 404],
    }),
    async (r) => listAppointments(r.ctx, queryOf(r)),
  );

  // A retry with the same Idempotency-Key and body gets the first booking back; another body is a 422.
  app.post(
    '/appointments',
    doc({
      operationId: 'bookAppointment',
      tags,
      summary: 'Book a slot, or `slots` consecutive slots as one visit (header Idempotency-Key makes retries safe)',
      body: bookBody,
      status: 201,
      response: appointmentViewSchema,
      problems: [403, 404, 409],
      idempotent: true,
    }),
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
    doc({
      operationId: 'exportAppointmentsCalendar',
      tags,
      summary: 'The appointments you may see, as iCalendar',
      querystring: listAppointmentsInput.omit({ limit: true, offset: true }),
      response: z.string(),
      produces: 'text/calendar',
      problems: [403, 404],
    }),
    async (r, reply) => reply.type('text/calendar; charset=utf-8').send(await exportCalendar(r.ctx, queryOf(r))),
  );

  app.get(
    '/appointments/:id',
    doc({ operationId: 'getAppointment', tags, summary: 'One appointment (404 for those you may not see)', params: ['id'], response: appointmentViewSchema }),
    async (r) => getAppointment(r.ctx, pathId(r)),
  );
  app.post(
    '/appointments/:id/cancel',
    doc({
      operationId: 'cancelAppointment',
      tags,
      summary: 'Cancel and free the place',
      body: cancelInput,
      params: ['id'],
      response: appointmentViewSchema,
      problems: [403, 409],
    }),
    async (r) => cancelAppointment(r.ctx, pathId(r), bodyOf(r)),
  );
  app.post(
    '/appointments/:id/reschedule',
    doc({
      operationId: 'rescheduleAppointment',
      tags,
      summary: 'Move to another slot, atomically',
      body: rescheduleInput,
      params: ['id'],
      response: appointmentViewSchema,
      problems: [403, 409],
    }),
    async (r) => rescheduleAppointment(r.ctx, pathId(r), bodyOf(r)),
  );
  app.post(
    '/appointments/:id/complete',
    doc({
      operationId: 'completeAppointment',
      tags,
      summary: 'Mark completed (its doctor or an admin)',
      body: z.strictObject({}),
      params: ['id'],
      response: appointmentViewSchema,
      problems: [403, 409],
    }),
    async (r) => {
      noBody(r);
      return completeAppointment(r.ctx, pathId(r));
    },
  );
  app.post(
    '/appointments/:id/no-show',
    doc({
      operationId: 'markNoShow',
      tags,
      summary: 'Mark a no-show (its doctor or an admin)',
      body: z.strictObject({}),
      params: ['id'],
      response: appointmentViewSchema,
      problems: [403, 409],
    }),
    async (r) => {
      noBody(r);
      return markNoShow(r.ctx, pathId(r));
    },
  );
  app.post(
    '/appointments/:id/notes',
    doc({
      operationId: 'noteAppointment',
      tags,
      summary: 'The doctor’s notes on the visit',
      body: noteInput,
      params: ['id'],
      response: appointmentViewSchema,
      problems: [403, 409],
    }),
    async (r) => noteAppointment(r.ctx, pathId(r), bodyOf(r)),
  );
}
