// Profile images: one per user, `PUT /auth/me/image`, `ascend profile image set`. What is stored is never what
// was sent: the content is judged by what it is, not by its label, decoded in full by sharp (libvips), and
// re-encoded in its own format at most MAX_IMAGE_SIDE pixels a side, turned upright by its EXIF orientation and
// stripped of every metadata (EXIF with its GPS position, XMP, IPTC, ICC profiles, comments).
//
// The judgement, in order:
//   - the declared type (the Content-Type; the CLI declares what the file's first bytes say) must be one of
//     IMAGE_TYPES: otherwise UnsupportedMediaTypeError (HTTP 415);
//   - at most MAX_IMAGE_BYTES: otherwise TooLargeError (HTTP 413);
//   - the content must be an image of the declared type (its magic bytes), which decodes in full, of at most
//     MAX_INPUT_PIXELS (a small file can unpack into gigabytes): otherwise ValidationError on `image` (422).
// Whoever may see a user (users.ts getUser: themself, and admins) may see their image.
import { createHash } from 'node:crypto';
import { TooLargeError, UnsupportedMediaTypeError, ValidationError, NotFoundError } from '../domain/errors.js';
import type { ProfileImageView } from '../domain/schemas/profile.js';
import { imageUrl, iso, type Instant } from '../domain/views.js';
import { audit } from './audit.js';
import type { ServiceContext } from './context.js';
import { transaction } from './locks.js';
import { signedIn } from './profile.js';
import { query } from './support.js';
import { getUser } from './users.js';

export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];
/** 2 MiB, sent or stored (the table's check says the same). */
export const MAX_IMAGE_BYTES = 2 * 1024 * 1024;
/** The longest side stored: a profile picture, not a photo archive. Smaller images keep their size. */
export const MAX_IMAGE_SIDE = 1024;
/** Decoding stops beyond this many pixels (40 MP: a phone camera's photo; 160 MB decoded at most). */
const MAX_INPUT_PIXELS = 40_000_000;

const NAMES: Record<ImageType, string> = { 'image/png': 'PNG', 'image/jpeg': 'JPEG', 'image/webp': 'WebP' };
const FORMATS = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/webp': 'webp' } as const satisfies Record<ImageType, string>;
const TYPES_TEXT = 'image/png, image/jpeg or image/webp';

/** What the first bytes say the content is, among the types taken; undefined for anything else. */
export function sniffImageType(bytes: Uint8Array): ImageType | undefined {
  const starts = (sig: number[], at = 0) => sig.every((b, i) => bytes[at + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  return undefined;
}

/** What a few other common formats are, to say what was sent instead (the first bytes, nothing more). */
function describeContent(bytes: Uint8Array): string | undefined {
  const sniffed = sniffImageType(bytes);
  if (sniffed) return `a ${NAMES[sniffed]} image`;
  const head = Buffer.from(bytes.subarray(0, 12)).toString('latin1');
  if (head.startsWith('GIF8')) return 'a GIF image';
  if (head.startsWith('%PDF')) return 'a PDF document';
  if (head.startsWith('BM')) return 'a BMP image';
  if (/^(II\*\0|MM\0\*)/.test(head)) return 'a TIFF image';
  if (head.slice(4, 12).startsWith('ftyp')) return 'an HEIC/AVIF or MP4 file';
  if (head.trimStart().startsWith('<')) return 'text (SVG, HTML or XML)';
  return undefined;
}

/**
 * What a file's content declares itself to be, for the CLI (a file has no Content-Type): its first bytes, one
 * of IMAGE_TYPES, or the file is refused naming what it seems to be.
 */
export function imageTypeOfFile(bytes: Uint8Array): ImageType {
  const type = sniffImageType(bytes);
  if (!type) {
    const what = bytes.length ? describeContent(bytes) : 'empty';
    throw new ValidationError(`${what ? `is ${what}, not` : 'is not'} a PNG, JPEG or WebP image`, 'image');
  }
  return type;
}

/** The declared type, judged by its name alone (its parameters are ignored); anything else is a 415. */
export function declaredImageType(contentType: string | undefined): ImageType {
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  const known = IMAGE_TYPES.find((t) => t === type);
  if (!known) {
    throw new UnsupportedMediaTypeError(`must be ${TYPES_TEXT}${type ? ` (got ${type.slice(0, 60)})` : ' (none was given)'}`, 'Content-Type');
  }
  return known;
}

export interface ImageUpload {
  /** The declared type: a Content-Type header, or what the CLI read of the file. */
  contentType: string | undefined;
  bytes: Uint8Array;
}

interface Encoded {
  contentType: ImageType;
  bytes: Buffer;
  width: number;
  height: number;
  etag: string;
}

/** The content checked and re-encoded (see the top of this file), or the reason it is refused. */
export async function encodeImage(upload: ImageUpload): Promise<Encoded> {
  const type = declaredImageType(upload.contentType);
  const { bytes } = upload;
  if (bytes.length > MAX_IMAGE_BYTES) throw tooLarge();
  if (!bytes.length) throw new ValidationError('is empty: send the image itself as the body', 'image');
  if (sniffImageType(bytes) !== type) {
    const what = describeContent(bytes);
    throw new ValidationError(`${what ? `is ${what}, not` : 'is not'} the ${NAMES[type]} image it is declared to be (${type})`, 'image');
  }
  const { default: sharp } = await import('sharp');
  // libvips' operation cache keeps decoded images for reuse: uploads are one-off, and serve's memory matters.
  sharp.cache(false);
  let out: { data: Buffer; info: { width: number; height: number } };
  try {
    // failOn 'warning': a truncated or damaged file is refused, not stored half grey.
    const image = sharp(bytes, { failOn: 'warning', limitInputPixels: MAX_INPUT_PIXELS, animated: false });
    const format = FORMATS[type];
    out = await image
      .rotate()
      .resize({ width: MAX_IMAGE_SIDE, height: MAX_IMAGE_SIDE, fit: 'inside', withoutEnlargement: true })
      .toFormat(format, format === 'png' ? { compressionLevel: 9 } : { quality: 85 })
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    const why = /pixel limit/i.test(String(err)) ? `it is larger than ${MAX_INPUT_PIXELS / 1_000_000} megapixels` : 'it is damaged or incomplete';
    throw new ValidationError(`is not a ${NAMES[type]} image that can be decoded: ${why}`, 'image');
  }
  if (out.data.length > MAX_IMAGE_BYTES) throw tooLarge(); // cannot happen at 1024 px a side; the table says so too
  const etag = `"${createHash('sha256').update(out.data).digest('base64url')}"`;
  return { contentType: type, bytes: out.data, width: out.info.width, height: out.info.height, etag };
}

const tooLarge = () => new TooLargeError(`is larger than ${MAX_IMAGE_BYTES / 1024 / 1024} MiB, the most an image may be`, 'image');
/** The 413 of a body fastify stopped reading at the limit: the same words as the service's. */
export const imageTooLarge = tooLarge;

interface ImageRow {
  user_id: number;
  content_type: ImageType;
  size: number | string;
  width: number;
  height: number;
  etag: string;
  updated_at: Instant;
}

const imageView = (r: ImageRow): ProfileImageView => ({
  contentType: r.content_type,
  size: Number(r.size),
  width: r.width,
  height: r.height,
  etag: r.etag,
  updatedAt: iso(r.updated_at),
  url: imageUrl(r.user_id),
});

/** Sets (or replaces) the signed-in user's own image. */
export async function setProfileImage(ctx: ServiceContext, upload: ImageUpload): Promise<ProfileImageView> {
  const actor = signedIn(ctx.actor);
  const image = await encodeImage(upload);
  return transaction(ctx, async (tx) => {
    const [row] = await query<ImageRow>(
      tx.em,
      `insert into user_image (user_id, content_type, bytes, etag, width, height, updated_at) values (?, ?, ?, ?, ?, ?, ?)
       on conflict (user_id) do update set content_type = excluded.content_type, bytes = excluded.bytes, etag = excluded.etag,
         width = excluded.width, height = excluded.height, updated_at = excluded.updated_at
       returning user_id, content_type, octet_length(bytes) as size, width, height, etag, updated_at`,
      [actor.id, image.contentType, image.bytes, image.etag, image.width, image.height, tx.clock.now()],
    );
    if (!row) throw new Error('setProfileImage: the image was not stored');
    const view = imageView(row);
    audit(tx, { action: 'user.image.set', entity: 'user', entityId: actor.id, after: view });
    await tx.em.flush();
    return view;
  });
}

/** Removes the signed-in user's own image; "not found" when there is none. */
export async function deleteProfileImage(ctx: ServiceContext): Promise<ProfileImageView> {
  const actor = signedIn(ctx.actor);
  return transaction(ctx, async (tx) => {
    const [row] = await query<ImageRow>(
      tx.em,
      'delete from user_image where user_id = ? returning user_id, content_type, octet_length(bytes) as size, width, height, etag, updated_at',
      [actor.id],
    );
    if (!row) throw new NotFoundError('profile image of user', actor.id);
    const view = imageView(row);
    audit(tx, { action: 'user.image.delete', entity: 'user', entityId: actor.id, before: view });
    await tx.em.flush();
    return view;
  });
}

export interface StoredImage {
  contentType: ImageType;
  bytes: Buffer;
  etag: string;
  updatedAt: string;
}

/**
 * A user's image, to whoever may see the user (GET /users/{id}: themself, and admins); to anyone else the
 * user is "not found", as there. A user without an image is "not found" too.
 */
export async function getUserImage(ctx: ServiceContext, userId: number): Promise<StoredImage> {
  const user = await getUser(ctx, userId);
  const [row] = await query<{ content_type: ImageType; bytes: Buffer; etag: string; updated_at: Instant }>(
    ctx.em,
    'select content_type, bytes, etag, updated_at from user_image where user_id = ?',
    [user.id],
  );
  if (!row) throw new NotFoundError('profile image of user', user.id);
  return { contentType: row.content_type, bytes: row.bytes, etag: row.etag, updatedAt: iso(row.updated_at) };
}
