import { ForbiddenError } from './errors.js';

export const ROLES = ['admin', 'doctor', 'patient'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Who performs an action. Database administration (`init`, `db`, `seed`) acts as the system; everything
 * else acts as a signed-in user whose token was checked against the database.
 */
export type Actor =
  | { readonly kind: 'system' }
  | { readonly kind: 'user'; readonly id: number; readonly role: Role; readonly email: string; readonly name: string };

export const SYSTEM: Actor = Object.freeze({ kind: 'system' });

export function actorId(actor: Actor): number | null {
  return actor.kind === 'user' ? actor.id : null;
}

export function isAdmin(actor: Actor): boolean {
  return actor.kind === 'system' || actor.role === 'admin';
}

/** Throws unless the actor is the system or has one of the roles. */
export function requireRole(actor: Actor, roles: readonly Role[], action: string): void {
  if (actor.kind === 'system' || roles.includes(actor.role)) return;
  throw new ForbiddenError(`${action} needs the ${roles.join(' or ')} role; you are a ${actor.role}`);
}
