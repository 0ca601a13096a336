import { z } from 'zod';
import { normaliseNewlines, textFault } from '../text.js';

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

/**
 * The one rule on the characters of text from people (see domain/text.ts): no control characters (LF only in
 * multi-line text), no bidi overrides. Checked first and alone (abort), so the message names the character
 * rather than a format the text then also fails.
 */
const characters = (allowLf: boolean) =>
  z.refine<string>((v) => textFault(v, allowLf) === undefined, { error: (issue) => textFault(String(issue.input), allowLf), abort: true });

/** Trimmed text on one line, for names, places, codes, filters and every typed date, time or duration. */
export const oneLine = () => z.string().trim().check(characters(false));

/** Trimmed text that may span lines (addresses, notes, reasons): CRLF is read as LF, a lone CR is refused. */
export const multiLine = () => z.string().overwrite(normaliseNewlines).trim().check(characters(true));

/** A date, time, duration or list of days as typed: the services read it (domain/time.ts bounds dates). */
export const typedValue = oneLine().min(1).max(100);

export const email = oneLine().email().max(254);

export const personName = oneLine().min(1).max(200);

export const phone = oneLine()
  .regex(/^\+?[0-9][0-9 ()-]{5,30}$/, { message: 'must be a phone number: digits, spaces, + ( ) - (7 to 32 characters)' })
  .max(32);

/** Optional free text: empty strings become null, so `--address ''` clears a value. */
export const optionalText = (max: number, shape: 'line' | 'lines' = 'line') =>
  (shape === 'lines' ? multiLine() : oneLine())
    .max(max)
    .transform((v) => (v === '' ? null : v))
    .nullish();
