// How wide text is on a terminal, in columns, and how to cut or wrap it to a width: a CJK character or an
// emoji takes two columns, a combining accent none, and colour codes none. Text is measured and cut by
// grapheme (what a person sees as one character), so an accent or a flag is never split from its base.
import { stripVTControlCharacters } from 'node:util';

// Made on first use: building a Segmenter loads ICU's break data (~50 ms), which a command printing only
// ASCII (most) or nothing at all must not pay at startup.
let segmenter: Intl.Segmenter | undefined;

/** East Asian Wide and Fullwidth code points (Unicode 15 EastAsianWidth.txt, W and F, outside the emoji). */
const WIDE: readonly [number, number][] = [
  [0x1100, 0x115f],
  [0x2329, 0x232a],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x16fe0, 0x16fe4],
  [0x17000, 0x18cd5],
  [0x1aff0, 0x1b2fb],
  [0x1f200, 0x1f251],
  [0x20000, 0x2fffd],
  [0x30000, 0x3fffd],
];

const isWide = (cp: number): boolean => WIDE.some(([from, to]) => cp >= from && cp <= to);

/** Shown as a picture two columns wide: emoji presentation, or a text symbol asked to be one (U+FE0F), or a flag. */
const EMOJI = /\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F|\p{Regional_Indicator}{2}/u;
/** Takes no column of its own: controls, combining marks and variation selectors (Mn), joiners and other format characters (Cf). */
const ZERO = /^[\p{Cc}\p{Mn}\p{Me}\p{Cf}]+$/u;

function graphemeWidth(grapheme: string): number {
  if (EMOJI.test(grapheme)) return 2;
  if (ZERO.test(grapheme)) return 0;
  return isWide(grapheme.codePointAt(0) ?? 0) ? 2 : 1;
}

function graphemes(text: string): string[] {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

/** Columns `text` takes on a terminal (one line; colour codes not counted). */
export function textWidth(text: string): number {
  const plain = stripVTControlCharacters(text);
  // Plain ASCII (most of what ascend prints) needs no segmenting.
  if (/^[\x20-\x7e]*$/.test(plain)) return plain.length;
  let width = 0;
  for (const g of graphemes(plain)) width += graphemeWidth(g);
  return width;
}

/** `text` cut to at most `width` columns, ending in "…" when anything was cut. Plain text only (no colour codes). */
export function cut(text: string, width: number): string {
  if (textWidth(text) <= width) return text;
  if (width <= 0) return '';
  let out = '';
  let used = 0;
  for (const g of graphemes(text)) {
    const w = graphemeWidth(g);
    if (used + w > width - 1) break;
    out += g;
    used += w;
  }
  return `${out}…`;
}

/** `text` padded with spaces to `width` columns (colour codes not counted). */
export const pad = (text: string, width: number): string => text + ' '.repeat(Math.max(0, width - textWidth(text)));

/**
 * `text` in lines of at most `width` columns: its own line breaks kept, broken at spaces where it can be, and
 * inside a word only when the word alone is wider. Plain text only.
 */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    let used = 0;
    for (const word of paragraph.split(/(?<= )/)) {
      const w = textWidth(word);
      if (used + w <= width || (used === 0 && w <= width)) {
        line += word;
        used += w;
        continue;
      }
      if (used > 0) lines.push(line.trimEnd());
      line = '';
      used = 0;
      // A word wider than the whole width is broken where the width ends.
      for (const g of graphemes(word)) {
        const gw = graphemeWidth(g);
        if (used + gw > width && used > 0) {
          lines.push(line.trimEnd());
          line = '';
          used = 0;
        }
        line += g;
        used += gw;
      }
    }
    lines.push(line.trimEnd());
  }
  return lines;
}
