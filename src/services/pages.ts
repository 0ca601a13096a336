// Every page of a listing, for `--all` and the calendar export: read a page at a time (the most a page may
// hold), all in one snapshot of the database.
import { readContext } from '../db/replica.js';
import { IsolationLevel } from '@mikro-orm/postgresql';
import type { Page } from '../domain/schemas/common.js';
import type { ServiceContext } from './context.js';

/** The most records a page of any listing may hold (`limit` is at most this everywhere). */
export const LARGEST_PAGE = 1000;

export interface PageRequest {
  limit: number;
  offset: number;
}

/**
 * Calls `list` page after page until every record has been read, handing each page's records to `onPage`
 * as it comes. The pages are read in one REPEATABLE READ, READ ONLY transaction: they all see one snapshot,
 * so a record added or removed meanwhile cannot shift a later page (offsets would otherwise skip or repeat
 * a record), and `total` holds for every page. `onPage` answering false stops the reading (nobody reads
 * on). Returns how many records were handed over.
 */
export async function everyPage<T>(
  ctx: ServiceContext,
  list: (ctx: ServiceContext, page: PageRequest) => Promise<Page<T>>,
  onPage: (items: T[]) => boolean | undefined | Promise<boolean | undefined>,
): Promise<number> {
  ctx = await readContext(ctx);
  return ctx.em.transactional(
    async (em) => {
      const tx = { ...ctx, em };
      let read = 0;
      for (;;) {
        const page = await list(tx, { limit: LARGEST_PAGE, offset: read });
        read += page.items.length;
        if ((await onPage(page.items)) === false) return read;
        if (page.items.length < LARGEST_PAGE || read >= page.total) return read;
      }
    },
    { isolationLevel: IsolationLevel.REPEATABLE_READ, readOnly: true },
  );
}
