// Lists on the command line: one page (--limit, --offset), or every record (--all), for every list command
// alike. With --all the pages are fetched 1000 at a time in one snapshot (services/pages.ts) and printed as
// they come (output.ts listWriter says how, for a pipe, for --json and for a terminal).
import { Option } from '@commander-js/extra-typings';
import type { Page } from '../domain/schemas/common.js';
import type { ServiceContext } from '../services/context.js';
import type { PageRequest } from '../services/pages.js';
import type { Ctx } from './command.js';
import { type Column, listWriter, outputClosed, printList } from './output.js';
import { withServices } from './session.js';

/** `--all`, beside a list command's `--limit` and `--offset` (which it excludes). */
export const allOption = () =>
  new Option('--all', 'every one (not --limit/--offset): fetched 1000 at a time, printed as they come').conflicts(['limit', 'offset']);

export interface PagingFlags {
  limit: number;
  offset: number;
  all?: true;
}

/**
 * Prints a listing: the page the flags ask for, or with --all every page. `list` is the command's one service
 * call, given the page to read.
 */
export async function printListing<T>(
  ctx: Ctx,
  flags: PagingFlags,
  list: (services: ServiceContext, page: PageRequest) => Promise<Page<T>>,
  columns: Column<T>[],
  noun: string,
): Promise<void> {
  await withServices(async (services) => {
    if (!flags.all) {
      printList(ctx, await list(services, { limit: flags.limit, offset: flags.offset }), columns, noun);
      return;
    }
    const { everyPage } = await import('../services/pages.js');
    const out = listWriter(ctx, columns, noun);
    await everyPage(services, list, (items) => {
      out.add(items);
      return !outputClosed();
    });
    out.end();
  });
}
