// Rendering for people (tables, colour: only on a terminal) and for scripts (--json: the API's shapes,
// and nothing else on stdout). Text from the database never reaches a terminal or a pipe raw: a control
// character in it (an old row, a psql edit) is shown as a visible escape, never obeyed (see visible()).
import chalk from 'chalk';
import Table from 'cli-table3';
import type { Page } from '../domain/schemas/common.js';
import { escapeJsonText, showControls } from '../domain/text.js';
import { formatLocal } from '../domain/time.js';

export interface OutputOptions {
  json: boolean;
}

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
  /** Colours a rendered cell on a terminal. */
  style?: (text: string, row: T) => string;
}

export const isTerminal = (): boolean => Boolean(process.stdout.isTTY);

/** Colour only for a terminal, never with NO_COLOR (any value) or --no-color. */
export function configureColour(enabled: boolean): void {
  if (!enabled || 'NO_COLOR' in process.env || !isTerminal()) chalk.level = 0;
}

/**
 * Text built from data, made safe to print: control characters (ESC, BEL, CR, C1, …) and bidi overrides as
 * `\u001b`-style escapes; LF is kept, or made a space where the output is one line. Every line this module
 * prints passes through it before any colour is added; the CLI's error lines and prompts use it too.
 */
export const visible = (text: string, newlines: 'keep' | 'space' = 'keep'): string => showControls(text, newlines);

function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return visible(String(value));
}

/** JSON.stringify escapes C0 controls; DEL, C1, U+2028/2029 and bidi overrides are escaped too (same JSON value). */
export function printJson(value: unknown): void {
  process.stdout.write(`${escapeJsonText(JSON.stringify(value, null, 2))}\n`);
}

export function printRecord<T>(opts: OutputOptions, record: T, fields: Column<T>[]): void {
  if (opts.json) {
    printJson(record);
    return;
  }
  const width = Math.max(...fields.map((f) => f.header.length));
  const lines = fields.map((f) => {
    const text = cell(f.value(record));
    const styled = f.style && text ? f.style(text, record) : text;
    return `${chalk.bold(f.header.padEnd(width))}  ${styled}`;
  });
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function printList<T>(opts: OutputOptions, page: Page<T>, columns: Column<T>[], noun: string): void {
  if (opts.json) {
    printJson(page);
    return;
  }
  if (!isTerminal()) {
    // Plain tab-separated lines for pipes (cut, awk, sort): no borders, no colour, one header line.
    // One record per line: a line break in a field becomes a space (every other control character is an escape).
    const rows = [columns.map((c) => c.header), ...page.items.map((r) => columns.map((c) => cell(c.value(r)).replace(/\n/g, ' ')))];
    process.stdout.write(`${rows.map((r) => r.join('\t')).join('\n')}\n`);
    return;
  }
  const what = visible(noun, 'space');
  if (!page.items.length) {
    process.stdout.write(`${chalk.dim(`No ${what} found (${page.total} in all).`)}\n`);
    return;
  }
  const table = new Table({
    head: columns.map((c) => chalk.bold(c.header)),
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of page.items) {
    table.push(
      columns.map((c) => {
        const text = cell(c.value(row));
        return c.style && text ? c.style(text, row) : text;
      }),
    );
  }
  process.stdout.write(`${table.toString()}\n`);
  const from = page.offset + 1;
  const to = page.offset + page.items.length;
  const more = to < page.total ? ` — next page: --offset ${to}` : '';
  process.stdout.write(`${chalk.dim(`${from}–${to} of ${page.total} ${what}${more}`)}\n`);
}

/** A line of confirmation for people; with --json, the data instead. */
export function printDone(opts: OutputOptions, message: string, data?: unknown): void {
  if (opts.json) {
    if (data !== undefined) printJson(data);
    return;
  }
  process.stdout.write(`${chalk.green('✓')} ${visible(message, 'space')}\n`);
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
