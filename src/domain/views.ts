// What callers see of records: the JSON shapes of the HTTP API, also printed by `--json`. Secrets (password
// hashes, token versions) never leave the services.
import type { Role } from './roles.js';

export interface UserView {
  id: number;
  name: string;
  email: string;
  role: Role;
  isActive: boolean;
  mobile: string | null;
  address: string | null;
  lastLoginAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface UserLike {
  id: number;
  name: string;
  email: string;
  role: Role;
  isActive: boolean;
  mobile?: string | null;
  address?: string | null;
  lastLoginAt?: Instant | null;
  createdAt: Instant;
  updatedAt: Instant;
}

/** Raw queries may hand back timestamps as strings (MikroORM's pg type parsers); entities as Dates. */
export type Instant = Date | string;
export const iso = (d: Instant | null | undefined): string | null => (d ? new Date(d).toISOString() : null);

export function userView(u: UserLike): UserView {
  return {
    id: u.id,
    name: u.name,
    email: u.email,
    role: u.role,
    isActive: u.isActive,
    mobile: u.mobile ?? null,
    address: u.address ?? null,
    lastLoginAt: iso(u.lastLoginAt),
    createdAt: iso(u.createdAt)!,
    updatedAt: iso(u.updatedAt)!,
  };
}
