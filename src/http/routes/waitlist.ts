import type { FastifyInstance } from 'fastify';
import { pageOf } from '../../domain/schemas/views.js';
import { joinWaitlistInput, listWaitlistInput, waitlistEntryViewSchema, waitlistOfferViewSchema } from '../../domain/schemas/waitlist.js';
import { joinWaitlist, leaveWaitlist, listWaitlist } from '../../services/waitlist/entries.js';
import { acceptOffer, declineOffer } from '../../services/waitlist/offers.js';
import { created } from '../idempotency.js';
import { bodyOf, doc, noBody, pathId, queryOf } from '../route.js';

export function registerWaitlistRoutes(app: FastifyInstance): void {
  const tags = ['waitlist'];
  app.post(
    '/waitlist',
    doc({
      operationId: 'joinWaitlist',
      tags,
      summary: 'Wait for a place with a doctor, or a specialty (in a city or clinic), between two local days (patients for themselves, admins)',
      body: joinWaitlistInput,
      status: 201,
      response: waitlistEntryViewSchema,
      problems: [403, 404, 409],
      idempotent: true,
    }),
    async (r, reply) => created(r, reply, (ctx) => joinWaitlist(ctx, bodyOf(r))),
  );
  app.get(
    '/waitlist',
    doc({
      operationId: 'listWaitlist',
      tags,
      summary: 'Waitlist entries in line order: a patient’s own, those that could take a doctor’s places, or all (admins)',
      querystring: listWaitlistInput,
      response: pageOf(waitlistEntryViewSchema),
      problems: [403],
    }),
    async (r) => listWaitlist(r.ctx, queryOf(r)),
  );
  app.delete(
    '/waitlist/:id',
    doc({
      operationId: 'leaveWaitlist',
      tags,
      summary: 'Leave the waitlist; an open offer is withdrawn and its place passed on',
      params: ['id'],
      response: waitlistEntryViewSchema,
      problems: [403, 404, 409],
    }),
    async (r) => leaveWaitlist(r.ctx, pathId(r)),
  );
  const offerActions = [
    { action: 'accept', operationId: 'acceptWaitlistOffer', summary: 'Accept an open offer: the held place is booked for the patient', run: acceptOffer },
    {
      action: 'decline',
      operationId: 'declineWaitlistOffer',
      summary: 'Decline an open offer: the place goes to the next in line; the entry keeps waiting',
      run: declineOffer,
    },
  ] as const;
  for (const { action, operationId, summary, run } of offerActions) {
    app.post(
      `/waitlist/offers/:id/${action}`,
      doc({ operationId, tags, summary, params: ['id'], emptyBody: true, response: waitlistOfferViewSchema, problems: [403, 404, 409] }),
      async (r) => {
        noBody(r);
        return run(r.ctx, pathId(r));
      },
    );
  }
}
