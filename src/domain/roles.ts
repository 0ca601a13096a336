import { AuthError, ForbiddenError } from './errors.js';

export const ROLES = ['admin', 'doctor', 'patient'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Who performs an action. Database administration (`init`, `db`, `seed`) acts as the system; everything
 * else acts as a signed-in user whose token was checked against the database, except what a public API
 * route does before anyone is known (logging in, registering): that is anonymous, and may do nothing a role
 * is needed for.
 */
export type Actor =
  | { readonly kind: 'system' }
  | { readonly kind: 'anonymous' }
  | {
      readonly kind: 'user';
      readonly id: number;
      readonly role: Role;
      readonly email: string;
      readonly name: string;
      /** The session the user acts through (from their access token); absent for actors tests build by hand. */
      readonly sessionId?: number;
    };

export const SYSTEM: Actor = Object.freeze({ kind: 'system' });
export const ANONYMOUS: Actor = Object.freeze({ kind: 'anonymous' });

export function actorId(actor: Actor): number | null {
  return actor.kind === 'user' ? actor.id : null;
}

export function isAdmin(actor: Actor): boolean {
  return actor.kind === 'system' || (actor.kind === 'user' && actor.role === 'admin');
}

/** Throws unless the actor is the system or has one of the roles. */
export function requireRole(actor: Actor, roles: readonly Role[], action: string): void {
  if (actor.kind === 'system') return;
  if (actor.kind !== 'user') throw new AuthError('not logged in');
  if (roles.includes(actor.role)) return;
  throw new ForbiddenError(`${action} needs the ${roles.join(' or ')} role; you are a ${actor.role}`);
}
