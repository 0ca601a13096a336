import type { FastifyInstance } from 'fastify';
import { workerStatusViewSchema } from '../../domain/schemas/worker.js';
import { workerStatus } from '../../services/worker.js';
import { doc } from '../route.js';

export function registerWorkerRoutes(app: FastifyInstance): void {
  app.get(
    '/worker/status',
    doc({
      operationId: 'workerStatus',
      tags: ['worker'],
      summary: 'The worker’s job queue, the jobs that failed, and each module’s figures such as undispatched events (admins)',
      response: workerStatusViewSchema,
      problems: [403],
    }),
    async (r) => workerStatus(r.ctx),
  );
}
