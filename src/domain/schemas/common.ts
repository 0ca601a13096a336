import { z } from 'zod';

export const id = z.int().positive().max(2_147_483_647);

export const pagination = {
  limit: z.int().min(1).max(1000).default(50),
  offset: z.int().min(0).default(0),
};

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export const email = z.email().trim().max(254);

export const personName = z.string().trim().min(1).max(200);

export const phone = z
  .string()
  .trim()
  .regex(/^\+?[0-9][0-9 ()-]{5,30}$/, { message: 'must be a phone number: digits, spaces, + ( ) - (7 to 32 characters)' })
  .max(32);

/** Optional free text: empty strings become null, so `--address ''` clears a value. */
export const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .transform((v) => (v === '' ? null : v))
    .nullish();
