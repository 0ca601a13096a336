// "Did you mean …?" for a value outside a closed set (a status, a role, a blood group, a file format, a time
// zone), the way commander suggests a mistyped command. It lives in the domain so that every edge says the
// same: the CLI's error line, and the `errors` of an HTTP 422.

/** How people's spellings of one value compare: case, spaces, dashes and underscores do not matter. */
export const fold = (text: string): string =>
  text
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, '_');

/**
 * Appointment statuses as people write them: `no-show`, not `no_show`. Here, not beside the schemas, so that
 * a command can show a status without loading zod at startup.
 */
export const statusShown = (status: string): string => status.replace(/_/g, '-');

/**
 * Edits (insert, delete, replace, swap two neighbours) between two strings, or `limit + 1` once it is clear
 * there are more than `limit`.
 */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (before[j - 2] ?? 0) + 1);
      current.push(d);
      best = Math.min(best, d);
    }
    if (best > limit) return limit + 1;
    before = previous;
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The one candidate closest to `input` under `key`, or undefined when none is close or two are equally close. */
function closest(input: string, candidates: readonly string[], key: (candidate: string) => string, strict = false): string | undefined {
  const typed = fold(input);
  if (!typed) return undefined;
  const keys = candidates.map((c) => ({ candidate: c, key: key(c) }));
  const only = (found: { candidate: string }[]) => (new Set(found.map((f) => f.candidate)).size === 1 ? found[0]?.candidate : undefined);
  const same = keys.filter((k) => k.key === typed);
  if (same.length) return only(same);
  // A beginning that fits one value only: `cancel` → cancelled, `comp` → completed.
  const starts = typed.length >= (strict ? 4 : 1) ? keys.filter((k) => k.key.startsWith(typed)) : [];
  if (starts.length) return only(starts);
  // A slip of the keyboard: about one edit in three characters, as commander allows for commands (one in four
  // among the hundreds of zones, where a looser match finds a wrong place: `mumbai` is not Asia/Dubai).
  let best = Number.POSITIVE_INFINITY;
  let found: { candidate: string }[] = [];
  for (const k of keys) {
    const limit = Math.max(1, Math.floor(Math.max(k.key.length, typed.length) / (strict ? 4 : 3)));
    const d = editDistance(typed, k.key, limit);
    if (d > limit || d > best) continue;
    if (d < best) found = [];
    best = d;
    found.push(k);
  }
  return only(found);
}

/** The value of `values` that `input` most likely meant, if one stands out. */
export function suggest(input: string, values: readonly string[]): string | undefined {
  return closest(input, values, fold);
}

/**
 * Names ICU (and so Intl, on Node 20) still lists in their old spelling, with the names IANA and PostgreSQL
 * use today: a suggestion must be a name the clinic can be given.
 */
const CURRENT_ZONE_NAMES: Record<string, string> = {
  'Asia/Calcutta': 'Asia/Kolkata',
  'Asia/Katmandu': 'Asia/Kathmandu',
  'Asia/Saigon': 'Asia/Ho_Chi_Minh',
  'Asia/Rangoon': 'Asia/Yangon',
  'Europe/Kiev': 'Europe/Kyiv',
  'America/Godthab': 'America/Nuuk',
  'America/Buenos_Aires': 'America/Argentina/Buenos_Aires',
  'America/Indianapolis': 'America/Indiana/Indianapolis',
  'America/Louisville': 'America/Kentucky/Louisville',
  'America/Coral_Harbour': 'America/Atikokan',
  'Atlantic/Faeroe': 'Atlantic/Faroe',
  'Africa/Asmera': 'Africa/Asmara',
  'Pacific/Truk': 'Pacific/Chuuk',
  'Pacific/Ponape': 'Pacific/Pohnpei',
  'Pacific/Enderbury': 'Pacific/Kanton',
};

let zoneNames: string[] | undefined;

/** Every IANA zone name in its current spelling (computed once, on the first wrong zone). */
function timeZones(): string[] {
  zoneNames ??= [...new Set([...Intl.supportedValuesOf('timeZone').map((z) => CURRENT_ZONE_NAMES[z] ?? z), 'UTC'])];
  return zoneNames;
}

/** A zone's place: `America/New_York` → `new_york`, `America/Argentina/Buenos_Aires` → `buenos_aires`. */
const place = (zone: string) => fold(zone.slice(zone.lastIndexOf('/') + 1));

/**
 * The IANA zone a person most likely meant: the name in another case (`europe/berlin`), or a place as people
 * write it (`berlin` → Europe/Berlin, `new york` → America/New_York, `kolkata` or `calcutta` →
 * Asia/Kolkata), or either with a slip of the keyboard (`berln`).
 */
export function suggestTimeZone(input: string): string | undefined {
  const zones = timeZones();
  const typed = fold(input);
  const exact = zones.find((z) => fold(z) === typed);
  if (exact) return exact;
  const old = Object.entries(CURRENT_ZONE_NAMES).find(([name]) => fold(name) === typed || place(name) === typed);
  if (old) return old[1];
  return closest(input, zones, place, true);
}

/** ` (did you mean X?)`, or nothing without a suggestion; `shown` is how people write the value. */
export const didYouMean = (suggestion: string | undefined, shown: (value: string) => string = (v) => v): string =>
  suggestion === undefined ? '' : ` (did you mean ${shown(suggestion)}?)`;

/** The message for a value outside a closed set: the values as people write them, and the likeliest one. */
export function oneOfMessage(values: readonly string[], input: unknown, shown: (value: string) => string = (v) => v): string {
  const suggestion = typeof input === 'string' ? suggest(input, values) : undefined;
  return `must be one of ${values.map(shown).join(', ')}${didYouMean(suggestion, shown)}`;
}
