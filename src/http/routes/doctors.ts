import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import {
  addLeaveInput,
  createDoctorInput,
  deactivateDoctorInput,
  listDoctorsInput,
  publicDoctorView,
  updateDoctorInput,
} from '../../domain/schemas/doctors.js';
import { setHoursInput } from '../../domain/schemas/slots.js';
import { addLeave, createDoctor, deactivateDoctor, listLeave, reactivateDoctor, removeLeave, updateDoctor } from '../../services/doctors.js';
import { browseDoctor, browseDoctors } from '../../services/directory.js';
import { getHours, setHours } from '../../services/hours.js';
import { doctorDeactivationSchema, doctorHoursViewSchema, doctorViewSchema, leaveAdditionSchema, leaveViewSchema, pageOf } from '../../domain/schemas/views.js';
import { created } from '../idempotency.js';
import { bodyOf, doc, noBody, pathId, queryOf } from '../route.js';

export function registerDoctorRoutes(app: FastifyInstance): void {
  const tags = ['doctors'];
  app.get(
    '/doctors',
    doc({
      operationId: 'listDoctors',
      tags,
      summary: 'List doctors (with serve --public-directory, anonymous callers get public views)',
      querystring: listDoctorsInput,
      response: pageOf(z.union([doctorViewSchema, publicDoctorView])),
      problems: [404],
    }),
    async (r) => browseDoctors(r.ctx, queryOf(r)),
  );
  app.post(
    '/doctors',
    doc({
      operationId: 'createDoctor',
      tags,
      summary: 'Create a doctor and their user, together (admins)',
      body: createDoctorInput,
      status: 201,
      response: doctorViewSchema,
      problems: [403, 404, 409],
      idempotent: true,
    }),
    async (r, reply) => created(r, reply, (ctx) => createDoctor(ctx, bodyOf(r))),
  );
  app.get(
    '/doctors/:id',
    doc({ operationId: 'getDoctor', tags, summary: 'One doctor', params: ['id'], response: z.union([doctorViewSchema, publicDoctorView]) }),
    async (r) => browseDoctor(r.ctx, pathId(r)),
  );
  app.patch(
    '/doctors/:id',
    doc({
      operationId: 'updateDoctor',
      tags,
      summary: 'Change a doctor (admins)',
      body: updateDoctorInput,
      params: ['id'],
      response: doctorViewSchema,
      problems: [403, 409],
    }),
    async (r) => updateDoctor(r.ctx, pathId(r), bodyOf(r)),
  );
  app.post(
    '/doctors/:id/deactivate',
    doc({
      operationId: 'deactivateDoctor',
      tags,
      summary: 'Deactivate a doctor (admins)',
      body: deactivateDoctorInput,
      params: ['id'],
      response: doctorDeactivationSchema,
      problems: [403, 409],
    }),
    async (r) => deactivateDoctor(r.ctx, pathId(r), bodyOf(r)),
  );
  app.get(
    '/doctors/:id/hours',
    doc({ operationId: 'getDoctorHours', tags, summary: 'Weekly working hours', params: ['id'], response: doctorHoursViewSchema }),
    async (r) => getHours(r.ctx, pathId(r)),
  );
  app.put(
    '/doctors/:id/hours',
    doc({
      operationId: 'setDoctorHours',
      tags,
      summary: 'Set the working hours of some weekdays',
      body: setHoursInput,
      params: ['id'],
      response: doctorHoursViewSchema,
      problems: [403, 409],
    }),
    async (r) => setHours(r.ctx, pathId(r), bodyOf(r)),
  );
  app.get(
    '/doctors/:id/leaves',
    doc({ operationId: 'listLeave', tags, summary: 'A doctor’s leave', params: ['id'], response: pageOf(leaveViewSchema), problems: [403] }),
    async (r) => listLeave(r.ctx, pathId(r), queryOf(r)),
  );
  app.post(
    '/doctors/:id/reactivate',
    doc({
      operationId: 'reactivateDoctor',
      tags,
      summary:
        'Undo a deactivation: the doctor and their login are back; closed slots and cancelled appointments stay so; refused in a deactivated clinic (admins)',
      params: ['id'],
      emptyBody: true,
      response: doctorViewSchema,
      problems: [403, 409],
    }),
    async (r) => {
      noBody(r);
      return reactivateDoctor(r.ctx, pathId(r));
    },
  );
  app.post(
    '/doctors/:id/leaves',
    doc({
      operationId: 'addLeave',
      tags,
      summary: 'Add leave (dates in the clinic’s zone)',
      body: addLeaveInput,
      params: ['id'],
      status: 201,
      response: leaveAdditionSchema,
      problems: [403, 409],
      idempotent: true,
    }),
    async (r, reply) => created(r, reply, (ctx) => addLeave(ctx, pathId(r), bodyOf(r))),
  );
  app.delete(
    '/doctors/:id/leaves/:leaveId',
    doc({ operationId: 'removeLeave', tags, summary: 'Remove leave', params: ['id', 'leaveId'], response: leaveViewSchema, problems: [403] }),
    async (r) => removeLeave(r.ctx, pathId(r, 'leaveId'), pathId(r)),
  );
}
