import { z } from 'zod';
import { fold, oneOfMessage } from '../suggest.js';

/**
 * One of a closed set of values, as people type them: any case, `-` or `_` or a space alike (`No-Show`,
 * `no_show` → no_show). The value kept is the set's own spelling. A value outside the set is refused listing
 * the values as `shown` writes them for people, with the likeliest one (`noshow` → "did you mean no-show?").
 * The OpenAPI document still lists the values (the JSON Schema of the input is the enum's).
 */
export function choice<const T extends readonly [string, ...string[]]>(values: T, shown: (value: string) => string = (v) => v) {
  const byFold = new Map<string, string>(values.map((v) => [fold(v), v]));
  // The input is typed `string` for typed callers; at run time it may be anything an edge read.
  return z.preprocess<unknown, z.ZodEnum<{ [K in T[number]]: K }>, string>(
    (input) => (typeof input === 'string' ? (byFold.get(fold(input)) ?? input) : input),
    z.enum(values, { error: (issue) => oneOfMessage(values, issue.input, shown) }),
  );
}
