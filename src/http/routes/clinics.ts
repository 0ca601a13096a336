import type { FastifyInstance } from 'fastify';
import { createClinicInput, listClinicsInput, updateClinicInput } from '../../domain/schemas/clinics.js';
import { createClinic, deactivateClinic, updateClinic } from '../../services/clinics.js';
import { browseClinic, browseClinics } from '../../services/directory.js';
import { bodyOf, doc, noBody, pathId, queryOf } from '../route.js';

export function registerClinicRoutes(app: FastifyInstance): void {
  const tags = ['clinics'];
  app.get('/clinics', doc({ tags, summary: 'List clinics', querystring: listClinicsInput }), async (r) => browseClinics(r.ctx, queryOf(r)));
  app.post('/clinics', doc({ tags, summary: 'Create a clinic (admins)', body: createClinicInput, status: 201 }), async (r, reply) =>
    reply.code(201).send(await createClinic(r.ctx, bodyOf(r))),
  );
  app.get('/clinics/:id', doc({ tags, summary: 'One clinic', params: ['id'] }), async (r) => browseClinic(r.ctx, pathId(r)));
  app.patch('/clinics/:id', doc({ tags, summary: 'Change a clinic (admins)', body: updateClinicInput, params: ['id'] }), async (r) =>
    updateClinic(r.ctx, pathId(r), bodyOf(r)),
  );
  app.post('/clinics/:id/deactivate', doc({ tags, summary: 'Deactivate a clinic without active doctors (admins)', params: ['id'] }), async (r) => {
    noBody(r);
    return deactivateClinic(r.ctx, pathId(r));
  });
}
