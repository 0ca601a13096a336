import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { createClinicInput, listClinicsInput, updateClinicInput } from '../../domain/schemas/clinics.js';
import { createClinic, deactivateClinic, reactivateClinic, updateClinic } from '../../services/clinics.js';
import { browseClinic, browseClinics } from '../../services/directory.js';
import { publicClinicView } from '../../domain/schemas/clinics.js';
import { clinicViewSchema, pageOf } from '../../domain/schemas/views.js';
import { created } from '../idempotency.js';
import { bodyOf, doc, noBody, pathId, queryOf } from '../route.js';

export function registerClinicRoutes(app: FastifyInstance): void {
  const tags = ['clinics'];
  app.get(
    '/clinics',
    doc({
      operationId: 'listClinics',
      tags,
      summary: 'List clinics (with serve --public-directory, anonymous callers get public views)',
      querystring: listClinicsInput,
      response: pageOf(z.union([clinicViewSchema, publicClinicView])),
    }),
    async (r) => browseClinics(r.ctx, queryOf(r)),
  );
  app.post(
    '/clinics',
    doc({
      operationId: 'createClinic',
      tags,
      summary: 'Create a clinic (admins)',
      body: createClinicInput,
      status: 201,
      response: clinicViewSchema,
      problems: [403, 409],
      idempotent: true,
    }),
    async (r, reply) => created(r, reply, (ctx) => createClinic(ctx, bodyOf(r))),
  );
  app.get(
    '/clinics/:id',
    doc({ operationId: 'getClinic', tags, summary: 'One clinic', params: ['id'], response: z.union([clinicViewSchema, publicClinicView]) }),
    async (r) => browseClinic(r.ctx, pathId(r)),
  );
  app.patch(
    '/clinics/:id',
    doc({
      operationId: 'updateClinic',
      tags,
      summary: 'Change a clinic (admins)',
      body: updateClinicInput,
      params: ['id'],
      response: clinicViewSchema,
      problems: [403, 409],
    }),
    async (r) => updateClinic(r.ctx, pathId(r), bodyOf(r)),
  );
  app.post(
    '/clinics/:id/deactivate',
    doc({
      operationId: 'deactivateClinic',
      tags,
      summary: 'Deactivate a clinic without active doctors (admins)',
      params: ['id'],
      emptyBody: true,
      response: clinicViewSchema,
      problems: [403, 409],
    }),
    async (r) => {
      noBody(r);
      return deactivateClinic(r.ctx, pathId(r));
    },
  );
  app.post(
    '/clinics/:id/reactivate',
    doc({
      operationId: 'reactivateClinic',
      tags,
      summary: 'Undo a deactivation; its doctors stay deactivated (admins)',
      params: ['id'],
      emptyBody: true,
      response: clinicViewSchema,
      problems: [403, 409],
    }),
    async (r) => {
      noBody(r);
      return reactivateClinic(r.ctx, pathId(r));
    },
  );
}
