import { DatabaseUnavailableError } from '../domain/errors.js';

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET', 'EAI_AGAIN', '57P01', '57P03', '3D000', '28P01', '28000']);

/** Where the URL points, without its password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}

/** Turns a driver error about reaching the server into DatabaseUnavailableError; leaves others alone. */
export function toDatabaseError(err: unknown, url: string): unknown {
  if (err instanceof DatabaseUnavailableError) return err;
  const code = (err as { code?: string } | null | undefined)?.code;
  if (code && UNREACHABLE_CODES.has(code)) {
    const message = (err as Error).message.split('\n')[0];
    return new DatabaseUnavailableError(`cannot reach the database at ${describeUrl(url)}: ${message}`);
  }
  return err;
}

export function isUnreachable(err: unknown): boolean {
  const code = (err as { code?: string } | null | undefined)?.code;
  return Boolean(code && UNREACHABLE_CODES.has(code));
}
