// Rendering for people (tables, colour: only on a terminal) and for scripts (--json: the API's shapes,
// and nothing else on stdout). Text from the database never reaches a terminal or a pipe raw: a control
// character in it (an old row, a psql edit) is shown as a visible escape, never obeyed (see visible()).
//
// On a terminal, tables fit its width (the widest columns are cut with "…", a row is never wrapped), records
// wrap long values under their label, and output longer than the screen goes through a pager (./pager.ts).
// Everything a command prints goes through `write` below, so that the pager sees all of it.
import chalk from 'chalk';
import type { Page } from '../domain/schemas/common.js';
import { escapeJsonText, showControls } from '../domain/text.js';
import { formatLocal } from '../domain/time-format.js';
import { type Pager, pagerCommand, startPager } from './pager.js';
import { cut, pad, textWidth, wrap } from './text-width.js';

export interface OutputOptions {
  json: boolean;
}

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
  /** Colours a rendered cell on a terminal. */
  style?: (text: string, row: T) => string;
  /**
   * Never cut to fit the terminal while other columns can give way (times, whose end carries the meaning).
   * Short columns (ids, statuses) are never cut anyway.
   */
  keep?: boolean;
}

export const isTerminal = (): boolean => Boolean(process.stdout.isTTY);

/** Columns of the terminal stdout is on: its own size, else COLUMNS, else 80. */
export const terminalWidth = (): number => process.stdout.columns || Number(process.env.COLUMNS) || 80;
const terminalRows = (): number => process.stdout.rows || Number(process.env.LINES) || 24;

/** Colour only for a terminal, never with NO_COLOR (any value) or --no-color. */
export function configureColour(enabled: boolean): void {
  if (!enabled || 'NO_COLOR' in process.env || !isTerminal()) chalk.level = 0;
}

// ---------------------------------------------------------------------------------------------------------
// Where output goes: straight to stdout, or (on a terminal) held until it is clear whether it fits the screen

interface Sink {
  write(text: string): void;
  /** Whether nobody reads any more (a pager quit early, a pipe's reader gone): the rest need not be made. */
  readonly closed: boolean;
}

let stdoutGone = false;
const stdoutSink: Sink = {
  write: (text) => {
    if (!stdoutGone) process.stdout.write(text);
  },
  get closed() {
    return stdoutGone;
  },
};
// A reader that stops early (`ascend users list --all | head`) is not an error: stop writing, exit as planned.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  stdoutGone = true;
});

let sink: Sink = stdoutSink;

/** Writes output for the user (through the pager when one is in use). */
export function write(text: string): void {
  sink.write(text);
}

/** Whether the output's reader has gone (the pager was quit): a long listing may stop fetching. */
export const outputClosed = (): boolean => sink.closed;

/** Lines `text` fills on a screen `columns` wide (a line wider than the screen wraps there). */
function screenLines(text: string, columns: number): number {
  let lines = 0;
  for (const line of text.split('\n').slice(0, -1)) lines += Math.max(1, Math.ceil(textWidth(line) / columns));
  return lines;
}

/**
 * Runs a command's work with its output held while it still fits the screen: once it has more lines than the
 * terminal, the pager starts and gets all of it (and the rest as it comes); output that fits is written to the
 * terminal when the work ends. Only on a terminal, and only when `page` (not --json, not --no-pager). The work
 * ends before the pager does, and its outcome (exit code, error) stays the command's.
 */
export async function withOutput<T>(options: { page: boolean }, work: () => Promise<T>): Promise<T> {
  const command = options.page && isTerminal() ? pagerCommand() : undefined;
  if (!command) return work();
  const columns = terminalWidth();
  const rows = terminalRows();
  let held = '';
  let pager: Pager | undefined;
  let everything = '';
  sink = {
    write(text) {
      if (pager) {
        everything += text;
        pager.write(text);
        return;
      }
      held += text;
      if (screenLines(held, columns) < rows) return;
      pager = startPager(command);
      everything = held;
      pager.write(held);
      held = '';
    },
    get closed() {
      return pager?.closed ?? false;
    },
  };
  try {
    return await work();
  } finally {
    sink = stdoutSink;
    if (pager) {
      if (!(await pager.close())) {
        // The pager could not be run (the shell has said why): the output still reaches the terminal.
        process.stderr.write(`error: could not run the pager "${command}"; set PAGER (or ASCEND_PAGER), or use --no-pager\n`);
        write(everything);
      }
    } else write(held);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Values

/**
 * Text built from data, made safe to print: control characters (ESC, BEL, CR, C1, …) and bidi overrides as
 * `\u001b`-style escapes; LF is kept, or made a space where the output is one line. Every line this module
 * prints passes through it before any colour is added; the CLI's error lines and prompts use it too.
 */
export const visible = (text: string, newlines: 'keep' | 'space' = 'keep'): string => showControls(text, newlines);

function cell(value: unknown, newlines: 'keep' | 'space' = 'keep'): string {
  if (value === null || value === undefined || value === '') return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return visible(String(value), newlines);
}

const styled = <T>(column: Column<T>, text: string, row: T): string => (column.style && text ? column.style(text, row) : text);

/** One JSON value as its text: C0 controls escaped by JSON, and DEL, C1, U+2028/2029 and bidi overrides too (same value). */
const jsonText = (value: unknown, indent = 2): string => escapeJsonText(JSON.stringify(value, null, indent));

export function printJson(value: unknown): void {
  write(`${jsonText(value)}\n`);
}

// ---------------------------------------------------------------------------------------------------------
// Records: one label per line; on a terminal a long value wraps under its own column, so nothing is lost
// (a record is where a person reads the whole address or note: cutting it would leave only --json to see it).

/** The narrowest a wrapped value may be; narrower, wrapping would make a ribbon of it: it is left whole. */
const MIN_WRAP = 20;

export function printRecord<T>(opts: OutputOptions, record: T, fields: Column<T>[]): void {
  if (opts.json) {
    printJson(record);
    return;
  }
  const labelWidth = Math.max(...fields.map((f) => f.header.length));
  const valueWidth = terminalWidth() - labelWidth - 2;
  const indent = ' '.repeat(labelWidth + 2);
  const lines = fields.map((f) => {
    const text = cell(f.value(record));
    const parts = isTerminal() && valueWidth >= MIN_WRAP ? wrap(text, valueWidth) : [text];
    return `${chalk.bold(f.header.padEnd(labelWidth))}  ${parts.map((part) => styled(f, part, record)).join(`\n${indent}`)}`;
  });
  write(`${lines.join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------------------------
// Tables

/** A column is cut to no fewer columns than this while another can give way; shorter ones are never cut. */
const MIN_CUT = 8;

/**
 * Column widths that fit `budget` (the terminal less the borders): the natural widths when they fit; else the
 * widest columns are cut first, all to one level, none below MIN_CUT (or its own width) and none marked
 * `keep`; and if even that is too wide, every column is cut to one level, so a row never wraps.
 */
export function fitWidths(natural: number[], keep: boolean[], budget: number): number[] {
  const total = (ws: number[]) => ws.reduce((a, b) => a + b, 0);
  if (total(natural) <= budget) return natural;
  const level = (floors: number[]): number[] | undefined => {
    if (total(floors) > budget) return undefined;
    const at = (cap: number) => natural.map((n, i) => Math.max(floors[i] ?? 0, Math.min(n, cap)));
    let lo = 0;
    let hi = Math.max(...natural);
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (total(at(mid)) <= budget) lo = mid;
      else hi = mid - 1;
    }
    // The columns (one each) cut the most take what is left below the next level, widest first.
    const widths = at(lo);
    let spare = budget - total(widths);
    for (const i of natural.map((_, i) => i).sort((a, b) => (natural[b] ?? 0) - (natural[a] ?? 0))) {
      if (spare <= 0) break;
      if ((widths[i] ?? 0) < (natural[i] ?? 0)) {
        widths[i] = (widths[i] ?? 0) + 1;
        spare--;
      }
    }
    return widths;
  };
  return level(natural.map((n, i) => (keep[i] ? n : Math.min(n, MIN_CUT)))) ?? level(natural.map((n) => Math.min(n, 1))) ?? natural.map((n) => Math.min(n, 1));
}

/** Rows as a bordered table that fits `width` columns: one line per row, cut cells ending in "…". */
function renderTable<T>(columns: Column<T>[], rows: T[], width: number): string {
  const texts = rows.map((row) => columns.map((c) => cell(c.value(row), 'space')));
  const natural = columns.map((c, i) => Math.max(textWidth(c.header), ...texts.map((t) => textWidth(t[i] ?? ''))));
  const widths = fitWidths(
    natural,
    columns.map((c) => Boolean(c.keep)),
    width - (3 * columns.length + 1),
  );
  const line = (cells: string[]) => `│ ${cells.join(' │ ')} │`;
  const rule = (left: string, middle: string, right: string) => `${left}${widths.map((w) => '─'.repeat(w + 2)).join(middle)}${right}`;
  const out = [rule('┌', '┬', '┐'), line(columns.map((c, i) => pad(chalk.bold(cut(c.header, widths[i] ?? 0)), widths[i] ?? 0)))];
  rows.forEach((row, r) => {
    out.push(line(columns.map((c, i) => pad(styled(c, cut(texts[r]?.[i] ?? '', widths[i] ?? 0), row), widths[i] ?? 0))));
  });
  out.push(rule('└', '┴', '┘'));
  return `${out.join('\n')}\n`;
}

/**
 * Plain tab-separated lines for pipes (cut, awk, sort): no borders, no colour, never cut. One record per line:
 * a line break in a field becomes a space (every other control character is an escape).
 */
const tsvLine = (cells: string[]): string => `${cells.join('\t')}\n`;
const tsvRow = <T>(columns: Column<T>[], row: T): string => tsvLine(columns.map((c) => cell(c.value(row), 'space')));

function printTable<T>(page: Page<T>, columns: Column<T>[], noun: string): void {
  const what = visible(noun, 'space');
  if (!page.items.length) {
    write(`${chalk.dim(`No ${what} found (${page.total} in all).`)}\n`);
    return;
  }
  write(renderTable(columns, page.items, terminalWidth()));
  const from = page.offset + 1;
  const to = page.offset + page.items.length;
  const more = to < page.total ? ` — next page: --offset ${to}` : '';
  write(`${chalk.dim(`${from}–${to} of ${page.total} ${what}${more}`)}\n`);
}

export function printList<T>(opts: OutputOptions, page: Page<T>, columns: Column<T>[], noun: string): void {
  if (opts.json) printJson(page);
  else if (!isTerminal()) write(tsvLine(columns.map((c) => c.header)) + page.items.map((row) => tsvRow(columns, row)).join(''));
  else printTable(page, columns, noun);
}

export interface ListWriter<T> {
  /** The next records, in order. */
  add(items: T[]): void;
  end(): void;
}

/**
 * A list printed as its pages arrive (`--all`). For scripts it streams: tab-separated lines as they come, and
 * with --json one document, the shape of a page (`{ "items": [...], "total", "limit", "offset" }`, every
 * record in `items`, `total` their count), its items written as they come. A terminal's table needs every
 * width before its first line, so it is drawn once all have come (and is long: the pager takes it).
 */
export function listWriter<T>(opts: OutputOptions, columns: Column<T>[], noun: string): ListWriter<T> {
  let count = 0;
  if (opts.json) {
    return {
      add(items) {
        for (const item of items) write(`${count++ ? ',\n' : '{\n  "items": [\n'}${jsonText(item).replace(/^/gm, '    ')}`);
      },
      end() {
        // The rest of the page object, without its opening brace: `"total": …, "limit": …, "offset": 0 }`.
        const tail = jsonText({ total: count, limit: count, offset: 0 }).slice(1);
        write(`${count ? '\n  ],' : '{\n  "items": [],'}${tail}\n`);
      },
    };
  }
  if (!isTerminal()) {
    write(tsvLine(columns.map((c) => c.header)));
    return { add: (items) => write(items.map((row) => tsvRow(columns, row)).join('')), end() {} };
  }
  const all: T[] = [];
  return {
    add: (items) => all.push(...items),
    end: () => printTable({ items: all, total: all.length, limit: all.length, offset: 0 }, columns, noun),
  };
}

/** A line of confirmation for people; with --json, the data instead. */
export function printDone(opts: OutputOptions, message: string, data?: unknown): void {
  if (opts.json) {
    if (data !== undefined) printJson(data);
    return;
  }
  write(`${chalk.green('✓')} ${visible(message, 'space')}\n`);
}

export const style = {
  active: (text: string, row: { isActive?: boolean }) => (row.isActive === false ? chalk.red(text) : chalk.green(text)),
  role: (text: string) => (text === 'admin' ? chalk.magenta(text) : text === 'doctor' ? chalk.cyan(text) : text),
  dim: (text: string) => chalk.dim(text),
};

/**
 * An instant that belongs to no clinic (a login, a record's creation) for people: in this machine's zone,
 * with the weekday and the zone's short name, as clinic times are shown (`Mon 2026-03-02 07:00 CET`).
 */
export function formatInstant(iso: string | null | undefined, timeZone?: string): string {
  if (!iso) return '';
  return formatLocal(iso, timeZone ?? new Intl.DateTimeFormat().resolvedOptions().timeZone);
}
