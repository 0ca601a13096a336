// Writing planned slots in bulk, and what a bulk run reports. The statement is ../sql/slots-bulk.ts.
import type { BulkResult } from '../../domain/views.js';
import type { ServiceContext } from '../context.js';
import { insertSlots } from '../sql/slots-bulk.js';
import type { Candidate, Classified } from './plan.js';

/** Options of the bulk runs (generate, import). */
export interface GenerateOptions {
  onProgress?: (done: number, total: number) => void;
}

/** Rows per INSERT: large enough that round trips do not matter, small enough to report progress. */
const BATCH = 10_000;

/**
 * Inserts the accepted candidates in batches. Rows the exclusion constraint refuses (another run wrote them
 * meanwhile) are skipped and counted as raced. Returns how many were written.
 */
export async function writeSlots(
  tx: ServiceContext,
  accepted: Candidate[],
  onProgress?: (done: number, total: number) => void,
): Promise<{ written: number; raced: number }> {
  let written = 0;
  const at = tx.clock.now();
  for (let i = 0; i < accepted.length; i += BATCH) {
    written += await insertSlots(tx.em, accepted.slice(i, i + BATCH), at);
    onProgress?.(Math.min(i + BATCH, accepted.length), accepted.length);
  }
  return { written, raced: accepted.length - written };
}

/** What a run did: slots raced away by a concurrent run count as existing. */
export function bulkResult(classified: Classified, written: number, raced: number, dryRun: boolean): BulkResult {
  const skippedBy: Record<string, number> = { ...classified.skippedBy };
  if (raced) skippedBy.exists = (skippedBy.exists ?? 0) + raced;
  const skipped = Object.values(skippedBy).reduce((a, b) => a + b, 0);
  return { created: written, skipped, skippedBy, ...(dryRun ? { dryRun: true } : {}) };
}
