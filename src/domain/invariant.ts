// What the code knows must be there (a regex group that matched, a row an insert returned, a key it set): said
// once, with a name, instead of a non-null assertion that would crash later and far away if it were ever wrong.

/** `value`, or an internal error naming what was missing (a bug: it reaches users as exit 1 / HTTP 500). */
export function defined<T>(value: T | null | undefined, what: string): T {
  if (value === undefined || value === null) throw new Error(`internal error: ${what} is missing`);
  return value;
}
