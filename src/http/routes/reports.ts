import type { FastifyInstance } from 'fastify';
import { utilisationInput } from '../../domain/schemas/appointments.js';
import { utilisationReport } from '../../services/reports.js';
import { pageOf, utilisationViewSchema } from '../../domain/schemas/views.js';
import { doc, queryOf } from '../route.js';

export function registerReportRoutes(app: FastifyInstance): void {
  app.get(
    '/reports/utilisation',
    doc({
      operationId: 'utilisationReport',
      tags: ['reports'],
      summary: 'Booked against capacity and no-show rate, per doctor and day',
      querystring: utilisationInput,
      response: pageOf(utilisationViewSchema),
      problems: [403, 404],
    }),
    async (r) => utilisationReport(r.ctx, queryOf(r)),
  );
}
