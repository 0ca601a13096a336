// One's own account: PATCH /auth/me, PATCH /auth/password, the profile image (PUT and DELETE /auth/me/image)
// and GET /users/{id}/image. GET /auth/me is in auth.ts.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import { z } from 'zod';
import { changePasswordInput, passwordChangedView, profileImageView, profileView, updateProfileInput } from '../../domain/schemas/profile.js';
import { deleteProfileImage, getUserImage, IMAGE_TYPES, imageTooLarge, MAX_IMAGE_BYTES, setProfileImage } from '../../services/images.js';
import { updateProfile } from '../../services/profile.js';
import { changePassword, loginThrottle } from '../../services/sessions.js';
import { sendProblem } from '../errors.js';
import { bodyOf, doc, noBody, pathId } from '../route.js';

const binary = { type: 'string', format: 'binary' };
const imageContent = Object.fromEntries(IMAGE_TYPES.map((type) => [type, { schema: binary }]));

/** A route's OpenAPI description with the image as its raw request body (PUT) or as its response (GET). */
function imageDoc(options: RouteShorthandOptions, image: 'body' | 'response'): RouteShorthandOptions {
  const schema = { ...(options.schema as Record<string, unknown>) };
  if (image === 'body') Object.assign(schema, { consumes: [...IMAGE_TYPES], body: binary });
  else {
    schema.response = {
      ...(schema.response as Record<string, unknown>),
      200: { description: 'The image as stored (re-encoded, without metadata)', content: imageContent, headers: { ETag: { type: 'string' } } },
      304: { description: 'Not modified: If-None-Match named the current ETag', type: 'null' },
    };
  }
  return { ...options, schema };
}

/** RFC 9110 §13.1.2: If-None-Match matches by weak comparison, `*` matches any current representation. */
function notModified(request: FastifyRequest, etag: string): boolean {
  const header = request.headers['if-none-match'];
  if (!header) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(etag));
}

export function registerProfileRoutes(app: FastifyInstance): void {
  app.patch(
    '/auth/me',
    doc({
      operationId: 'updateMe',
      tags: ['auth'],
      summary: 'Change your own name, mobile, address (a doctor: also qualifications, experience)',
      body: updateProfileInput,
      response: profileView,
    }),
    async (r) => updateProfile(r.ctx, bodyOf(r)),
  );
  app.patch(
    '/auth/password',
    doc({
      operationId: 'changePassword',
      tags: ['auth'],
      summary: 'Change your own password: every other session of yours ends, this one goes on',
      body: changePasswordInput,
      response: passwordChangedView,
      problems: [429],
    }),
    async (r) => changePassword(r.ctx, bodyOf(r), loginThrottle(r.ip)),
  );
  app.delete(
    '/auth/me/image',
    doc({ operationId: 'deleteMyImage', tags: ['auth'], summary: 'Remove your own profile image', status: 204, emptyBody: true, problems: [404] }),
    async (r, reply) => {
      noBody(r);
      await deleteProfileImage(r.ctx);
      return reply.code(204).send();
    },
  );
  const imageRoute = imageDoc(
    doc({
      operationId: 'getUserImage',
      tags: ['users'],
      summary: 'A user’s profile image (themself, and admins)',
      params: ['id'],
      response: z.string(),
      produces: 'image/png',
    }),
    'response',
  );
  app.get('/users/:id/image', imageRoute, async (r, reply) => {
    const image = await getUserImage(r.ctx, pathId(r));
    // Private: the image is shown only to whom may see the user; a cache must ask again (ETag makes that cheap).
    reply.header('ETag', image.etag).header('Cache-Control', 'private, no-cache').header('Last-Modified', new Date(image.updatedAt).toUTCString());
    if (notModified(r, image.etag)) return reply.code(304).send();
    return reply.type(image.contentType).header('X-Content-Type-Options', 'nosniff').send(image.bytes);
  });

  // The image arrives as the raw body: in a scope of its own, every content type is read as bytes, up to the
  // image's limit, and the service judges the declared type (415) and the content (422).
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_IMAGE_BYTES }, (_request, body, done) => done(null, body));
    scope.put(
      '/auth/me/image',
      {
        ...imageDoc(
          doc({
            operationId: 'setMyImage',
            tags: ['auth'],
            summary: 'Set your own profile image: the raw body, image/png, image/jpeg or image/webp, at most 2 MiB',
            response: profileImageView,
            emptyBody: true,
          }),
          'body',
        ),
        bodyLimit: MAX_IMAGE_BYTES,
        errorHandler: (err: FastifyError, request: FastifyRequest, reply: FastifyReply) =>
          sendProblem(err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? imageTooLarge() : err, request, reply),
      },
      async (r) => setProfileImage(r.ctx, { contentType: r.headers['content-type'], bytes: Buffer.isBuffer(r.body) ? r.body : Buffer.alloc(0) }),
    );
  });
}
