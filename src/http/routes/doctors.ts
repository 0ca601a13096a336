import type { FastifyInstance } from 'fastify';
import { addLeaveInput, createDoctorInput, deactivateDoctorInput, listDoctorsInput, updateDoctorInput } from '../../domain/schemas/doctors.js';
import { setHoursInput } from '../../domain/schemas/slots.js';
import { browseDoctor, browseDoctors } from '../../services/directory.js';
import { addLeave, createDoctor, deactivateDoctor, listLeave, removeLeave, updateDoctor } from '../../services/doctors.js';
import { getHours, setHours } from '../../services/hours.js';
import { bodyOf, doc, pathId, queryOf } from '../route.js';

export function registerDoctorRoutes(app: FastifyInstance): void {
  const tags = ['doctors'];
  app.get('/doctors', doc({ tags, summary: 'List doctors', querystring: listDoctorsInput }), async (r) => browseDoctors(r.ctx, queryOf(r)));
  app.post('/doctors', doc({ tags, summary: 'Create a doctor and their user, together (admins)', body: createDoctorInput, status: 201 }), async (r, reply) =>
    reply.code(201).send(await createDoctor(r.ctx, bodyOf(r))),
  );
  app.get('/doctors/:id', doc({ tags, summary: 'One doctor', params: ['id'] }), async (r) => browseDoctor(r.ctx, pathId(r)));
  app.patch('/doctors/:id', doc({ tags, summary: 'Change a doctor (admins)', body: updateDoctorInput, params: ['id'] }), async (r) =>
    updateDoctor(r.ctx, pathId(r), bodyOf(r)),
  );
  app.post('/doctors/:id/deactivate', doc({ tags, summary: 'Deactivate a doctor (admins)', body: deactivateDoctorInput, params: ['id'] }), async (r) =>
    deactivateDoctor(r.ctx, pathId(r), bodyOf(r)),
  );
  app.get('/doctors/:id/hours', doc({ tags, summary: 'Weekly working hours', params: ['id'] }), async (r) => getHours(r.ctx, pathId(r)));
  app.put('/doctors/:id/hours', doc({ tags, summary: 'Set the working hours of some weekdays', body: setHoursInput, params: ['id'] }), async (r) =>
    setHours(r.ctx, pathId(r), bodyOf(r)),
  );
  app.get('/doctors/:id/leaves', doc({ tags, summary: 'A doctor’s leave', params: ['id'] }), async (r) => listLeave(r.ctx, pathId(r), queryOf(r)));
  app.post(
    '/doctors/:id/leaves',
    doc({ tags, summary: 'Add leave (dates in the clinic’s zone)', body: addLeaveInput, params: ['id'], status: 201 }),
    async (r, reply) => reply.code(201).send(await addLeave(r.ctx, pathId(r), bodyOf(r))),
  );
  app.delete('/doctors/:id/leaves/:leaveId', doc({ tags, summary: 'Remove leave', params: ['id', 'leaveId'] }), async (r) =>
    removeLeave(r.ctx, pathId(r, 'leaveId'), pathId(r)),
  );
}
