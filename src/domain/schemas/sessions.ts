import { z } from 'zod';
import { id, oneLine, pagination } from './common.js';

/** Whose sessions: a user id or email (one's own when absent). A number typed as text is an id. */
const userRef = z.union([id, oneLine().min(1).max(254)]).optional();

export const listSessionsInput = z.strictObject({
  user: userRef,
  includeEnded: z.boolean().default(false),
  ...pagination,
});
export type ListSessionsInput = z.input<typeof listSessionsInput>;

export const revokeSessionsInput = z.strictObject({ user: userRef });
export type RevokeSessionsInput = z.input<typeof revokeSessionsInput>;

/**
 * A renewal: JSON `{ refresh_token }`, or the OAuth 2 form `grant_type=refresh_token&refresh_token=…` (RFC 6749
 * §6). The token is judged by the service, whose refusal is one wording whatever is wrong with it.
 */
export const refreshInput = z.strictObject({
  refresh_token: z.string().min(1).max(200),
  grant_type: z.literal('refresh_token', { error: 'must be refresh_token' }).optional(),
});
export type RefreshInput = z.input<typeof refreshInput>;
