import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { bookInput, cancelBody, listAppointmentsInput, noteInput, repeatInput, rescheduleBody } from '../../domain/schemas/appointments.js';
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
import { appointmentViewSchema, pageOf, seriesBookingSchema, seriesChangeSchema } from '../../domain/schemas/views.js';
import { bookSeries, cancelSeries, rescheduleSeries } from '../../services/series.js';
import { bodyFields, bodyOf, doc, noBody, pathId, queryOf } from '../route.js';

const bookBody = bookInput.omit({ idempotencyKey: true }).extend({ repeat: repeatInput.optional() });

/** `series: true` in the body of cancel or reschedule: this occurrence and every later one of its series. */
function seriesAsked(body: Readonly<Record<string, unknown>>): { series: boolean; rest: Record<string, unknown> } {
  const { series, ...rest } = body;
  if (series !== undefined && typeof series !== 'boolean') throw new ValidationError('must be true or false', 'series');
  return { series: series === true, rest };
}

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
      summary:
        'Book a slot, or `slots` consecutive slots as one visit (header Idempotency-Key makes retries safe); with `repeat`, a recurring series (the answer is the series, 409 with every occurrence when refused)',
      body: bookBody,
      status: 201,
      response: z.union([appointmentViewSchema, seriesBookingSchema]),
      problems: [403, 404, 409],
      idempotent: true,
    }),
    async (r, reply) => {
      const body = bodyFields(r);
      if ('idempotencyKey' in body) throw new ValidationError('is not a known field (send the Idempotency-Key header)', 'idempotencyKey');
      const key = r.headers['idempotency-key'];
      if (Array.isArray(key)) throw new ValidationError('may be given once', 'Idempotency-Key');
      if ('repeat' in body) {
        if (key !== undefined) throw new ValidationError('is not taken with repeat: a series is booked once, all or nothing', 'idempotencyKey');
        return reply.code(201).send(await bookSeries(r.ctx, untrusted(body)));
      }
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
      summary: 'Cancel and free the place; with `series: true`, this occurrence and every later one of its series (the answer lists them)',
      body: cancelBody,
      params: ['id'],
      response: z.union([appointmentViewSchema, seriesChangeSchema]),
      problems: [403, 409],
    }),
    async (r) => {
      const { series, rest } = seriesAsked(bodyFields(r));
      return series ? cancelSeries(r.ctx, pathId(r), untrusted(rest)) : cancelAppointment(r.ctx, pathId(r), untrusted(rest));
    },
  );
  app.post(
    '/appointments/:id/reschedule',
    doc({
      operationId: 'rescheduleAppointment',
      tags,
      summary:
        'Move to another slot, atomically; with `series: true`, every later occurrence of its series moves by the same change (doctor, local time, days), all or nothing',
      body: rescheduleBody,
      params: ['id'],
      response: z.union([appointmentViewSchema, seriesChangeSchema]),
      problems: [403, 409],
    }),
    async (r) => {
      const { series, rest } = seriesAsked(bodyFields(r));
      return series ? rescheduleSeries(r.ctx, pathId(r), untrusted(rest)) : rescheduleAppointment(r.ctx, pathId(r), untrusted(rest));
    },
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
