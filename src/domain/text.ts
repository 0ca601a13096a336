// Characters that act instead of being seen. Text from people may not hold them (the schemas refuse them, see
// schemas/common.ts); text already stored may (old rows, psql), so every place that shows stored text to a
// terminal, a pipe or a calendar shows them as escapes instead.

/**
 * C0 controls (TAB and CR included) except LF, DEL and the C1 controls. ESC starts terminal commands
 * (retitle the window, clear the screen, write the clipboard); U+009B is a one-byte CSI on some terminals.
 */
const CONTROL = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/;
const CONTROL_OR_LF = /[\u0000-\u001F\u007F-\u009F]/;
/**
 * Bidirectional embeddings, overrides and isolates: they reorder how the text after them is drawn, so a name
 * can look like another (Trojan Source). Right-to-left names need none of them (the marks U+200E/U+200F and
 * U+061C stay allowed).
 */
const BIDI = /[\u202A-\u202E\u2066-\u2069]/;

/** `U+001B` */
export const codePoint = (ch: string): string => `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/** Why text from people may not be stored as it is, or undefined when it may. LF only where `multiLine`. */
export function textFault(text: string, multiLine: boolean): string | undefined {
  const control = (multiLine ? CONTROL : CONTROL_OR_LF).exec(text);
  if (control) return `must not contain control characters (found ${codePoint(control[0])})`;
  const bidi = BIDI.exec(text);
  if (bidi) return `must not contain bidirectional override or isolate characters (found ${codePoint(bidi[0])})`;
  return undefined;
}

/** Windows line ends in multi-line text become LF; a CR on its own stays, to be refused. */
export const normaliseNewlines = (text: string): string => text.replace(/\r\n/g, '\n');

const ACTING = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;
const ACTING_OR_LF = /[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;

const escapeOf = (ch: string): string => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * Stored text made safe to show: every control character (and bidi override) as visible `\u001b`-style
 * escape text, so that a person sees that something is wrong instead of their terminal obeying it. LF is kept
 * unless `newlines` says otherwise ('space' for one-line-per-record output such as TSV).
 */
export function showControls(text: string, newlines: 'keep' | 'space' = 'keep'): string {
  if (newlines === 'space') return text.replace(ACTING_OR_LF, (ch) => (ch === '\n' ? ' ' : escapeOf(ch)));
  return text.replace(ACTING, escapeOf);
}

/**
 * JSON text with the characters JSON.stringify leaves raw but that act on a terminal or break JavaScript
 * (DEL, C1, U+2028/U+2029, bidi overrides) as \u escapes: still the same JSON value. They only occur inside
 * strings, so replacing them in the serialised text is safe.
 */
export function escapeJsonText(json: string): string {
  return json.replace(/[\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/g, escapeOf);
}
