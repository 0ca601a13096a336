// Widths as a terminal shows them, which is what cutting a table to fit depends on.
import { describe, expect, it } from 'vitest';
import { fitWidths } from '../../src/cli/output.js';
import { cut, textWidth, wrap } from '../../src/cli/text-width.js';

describe('text width on a terminal', () => {
  it('counts a CJK character and an emoji as two columns, an accent and colour codes as none', () => {
    expect(textWidth('Ada')).toBe(3);
    expect(textWidth('山田太郎')).toBe(8);
    expect(textWidth('Pat 🙂')).toBe(6);
    expect(textWidth('José'.normalize('NFD'))).toBe(4);
    expect(textWidth('\u001b[35madmin\u001b[39m')).toBe(5);
    expect(textWidth('🇮🇳')).toBe(2);
  });

  it('cuts to a width with "…", never splitting a wide character or an accent from its letter', () => {
    expect(cut('Bartholomew', 6)).toBe('Barth…');
    expect(cut('Ada', 6)).toBe('Ada');
    expect(cut('山田太郎', 6)).toBe('山田…');
    expect(textWidth(cut('山田太郎', 6))).toBe(5);
    expect(cut('Jose\u0301 Garcia', 5)).toBe('Jose\u0301…');
  });

  it('wraps at spaces, and inside a word only when the word alone is wider', () => {
    expect(wrap('12 Long Road, Pune', 10)).toEqual(['12 Long', 'Road, Pune']);
    expect(wrap('abcdefghijkl', 5)).toEqual(['abcde', 'fghij', 'kl']);
  });
});

describe('column widths that fit', () => {
  it('keeps natural widths that fit', () => {
    expect(fitWidths([2, 10, 20], [false, false, false], 40)).toEqual([2, 10, 20]);
  });

  it('cuts the widest columns first, to one level, and leaves short ones and kept ones whole', () => {
    const widths = fitWidths([2, 30, 40, 16], [false, false, false, true], 60);
    expect(widths.reduce((a, b) => a + b)).toBe(60);
    expect(widths[0]).toBe(2);
    expect(widths[3]).toBe(16);
    expect(Math.abs((widths[1] ?? 0) - (widths[2] ?? 0))).toBeLessThanOrEqual(1);
  });

  it('never gives more than the budget, even when every column must be cut below its minimum', () => {
    const widths = fitWidths([20, 20, 20, 20], [true, false, false, false], 12);
    expect(widths.reduce((a, b) => a + b)).toBeLessThanOrEqual(12);
  });
});
