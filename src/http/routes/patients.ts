import type { FastifyInstance } from 'fastify';
import { createPatientInput, historyInput, listPatientsInput, updatePatientInput } from '../../domain/schemas/patients.js';
import { createPatient, getPatient, listPatients, patientHistory, updatePatient } from '../../services/patients.js';
import { appointmentViewSchema, pageOf, patientViewSchema } from '../../domain/schemas/views.js';
import { created } from '../idempotency.js';
import { bodyOf, doc, pathId, queryOf } from '../route.js';

export function registerPatientRoutes(app: FastifyInstance): void {
  const tags = ['patients'];
  app.get(
    '/patients',
    doc({
      operationId: 'listPatients',
      tags,
      summary: 'The patients you may see',
      querystring: listPatientsInput,
      response: pageOf(patientViewSchema),
      problems: [403],
    }),
    async (r) => listPatients(r.ctx, queryOf(r)),
  );
  app.post(
    '/patients',
    doc({
      operationId: 'createPatient',
      tags,
      summary: 'Create a patient and their user (admins)',
      body: createPatientInput,
      status: 201,
      response: patientViewSchema,
      problems: [403, 409],
      idempotent: true,
    }),
    async (r, reply) => created(r, reply, (ctx) => createPatient(ctx, bodyOf(r))),
  );
  app.get(
    '/patients/:id',
    doc({ operationId: 'getPatient', tags, summary: 'One patient (404 for those you may not see)', params: ['id'], response: patientViewSchema }),
    async (r) => getPatient(r.ctx, pathId(r)),
  );
  app.patch(
    '/patients/:id',
    doc({
      operationId: 'updatePatient',
      tags,
      summary: 'Change a patient (admins, or the patient)',
      body: updatePatientInput,
      params: ['id'],
      response: patientViewSchema,
      problems: [403, 409],
    }),
    async (r) => updatePatient(r.ctx, pathId(r), bodyOf(r)),
  );
  app.get(
    '/patients/:id/appointments',
    doc({
      operationId: 'listPatientAppointments',
      tags,
      summary: 'A patient’s appointments, newest first',
      querystring: historyInput,
      params: ['id'],
      response: pageOf(appointmentViewSchema),
      problems: [403],
    }),
    async (r) => patientHistory(r.ctx, pathId(r), queryOf(r)),
  );
}
