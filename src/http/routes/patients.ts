import type { FastifyInstance } from 'fastify';
import { createPatientInput, historyInput, listPatientsInput, updatePatientInput } from '../../domain/schemas/patients.js';
import { createPatient, getPatient, listPatients, patientHistory, updatePatient } from '../../services/patients.js';
import { bodyOf, doc, pathId, queryOf } from '../route.js';

export function registerPatientRoutes(app: FastifyInstance): void {
  const tags = ['patients'];
  app.get('/patients', doc({ tags, summary: 'The patients you may see', querystring: listPatientsInput }), async (r) => listPatients(r.ctx, queryOf(r)));
  app.post('/patients', doc({ tags, summary: 'Create a patient and their user (admins)', body: createPatientInput, status: 201 }), async (r, reply) =>
    reply.code(201).send(await createPatient(r.ctx, bodyOf(r))),
  );
  app.get('/patients/:id', doc({ tags, summary: 'One patient (404 for those you may not see)', params: ['id'] }), async (r) => getPatient(r.ctx, pathId(r)));
  app.patch('/patients/:id', doc({ tags, summary: 'Change a patient (admins, or the patient)', body: updatePatientInput, params: ['id'] }), async (r) =>
    updatePatient(r.ctx, pathId(r), bodyOf(r)),
  );
  app.get(
    '/patients/:id/appointments',
    doc({ tags, summary: 'A patient’s appointments, newest first', querystring: historyInput, params: ['id'] }),
    async (r) => patientHistory(r.ctx, pathId(r), queryOf(r)),
  );
}
