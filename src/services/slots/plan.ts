// Planning new slots: the doctors they are for, and sorting candidate slots into those to write and those to
// skip (and why), against the database and against each other. Create, generate and import all plan here.
import type { EntityManager } from '@mikro-orm/postgresql';
import { ConflictError } from '../../domain/errors.js';
import { formatLocal } from '../../domain/time-format.js';
import type { ServiceContext } from '../context.js';
import { lockDoctorsAsRead } from '../locks.js';
import { spansOf, type NewSlot } from '../sql/slots-bulk.js';
import { intArray, query } from '../support.js';

export interface DoctorRow {
  id: number;
  clinic_id: number;
  timezone: string;
  /** The doctor and their clinic both active. */
  is_active: boolean;
}

export async function doctorsById(em: EntityManager, ids: number[]): Promise<Map<number, DoctorRow>> {
  const rows = await query<DoctorRow>(
    em,
    'select d.id, d.clinic_id, c.timezone, d.is_active and c.is_active as is_active from doctor d join clinic c on c.id = d.clinic_id where d.id = any(?::int[])',
    [intArray(ids)],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * Step 1 of the lock order (../locks.ts) for a path adding slots: the doctors FOR SHARE, in id order, so that
 * what was read of them before the transaction (active, in which clinic: the slots' clinic and zone) stays
 * true until commit; a doctor deactivated or moved since is a conflict to run again, not a slot in the
 * wrong clinic or of a closed doctor.
 */
export async function holdDoctorsAsRead(tx: EntityManager, doctors: DoctorRow[], field: string): Promise<void> {
  const now = await lockDoctorsAsRead(
    tx,
    doctors.map((d) => d.id),
  );
  for (const d of doctors) {
    const current = now.get(d.id);
    if (!current?.is_active) throw new ConflictError(`doctor ${d.id} (or their clinic) was deactivated meanwhile`, field);
    if (current.clinic_id !== d.clinic_id) throw new ConflictError(`doctor ${d.id} moved to clinic ${current.clinic_id} meanwhile; run this again`, field);
  }
}

/** A slot a run means to write; times are epoch milliseconds. */
export type Candidate = NewSlot;

interface Interval {
  start: number;
  end: number;
  id: number;
}

/** Sorted, non-overlapping intervals of one doctor (active slots and leave are both disjoint per doctor). */
class Intervals {
  private readonly list: Interval[] = [];
  add(start: number, end: number, id: number) {
    this.list.push({ start, end, id });
  }
  /** An interval overlapping [start, end), if any. */
  find(start: number, end: number): Interval | undefined {
    let lo = 0;
    let hi = this.list.length; // first index with start >= end
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.at(mid).start < end) lo = mid + 1;
      else hi = mid;
    }
    const before = this.list[lo - 1];
    return before && before.end > start ? before : undefined;
  }
  private at(i: number): Interval {
    const interval = this.list[i];
    if (!interval) throw new Error(`Intervals: no interval at ${i} of ${this.list.length}`);
    return interval;
  }
}

async function intervalsOf(em: EntityManager, table: 'slot' | 'doctor_leave', doctorIds: number[], from: number, to: number) {
  const map = new Map<number, Intervals>();
  for (const r of await spansOf(em, table, doctorIds, from, to)) {
    let list = map.get(r.doctor_id);
    if (!list) {
      list = new Intervals();
      map.set(r.doctor_id, list);
    }
    list.add(Number(r.s), Number(r.e), r.id);
  }
  return map;
}

/** Why a slot was not written: the keys of BulkResult.skippedBy. */
export type SkipReason = 'exists' | 'overlap' | 'leave' | 'past' | 'dst-gap';

/** Why an explicit slot (create, import) was refused, and with what: a slot id, or a leave id. */
export interface Clash<C extends Candidate = Candidate> {
  candidate: C;
  reason: 'overlap' | 'leave' | 'past';
  with?: number;
}

export interface Classified<C extends Candidate = Candidate> {
  accepted: C[];
  skippedBy: Partial<Record<SkipReason, number>>;
  /** For explicit slots (create, import): why each refused one was refused. */
  clashes: Clash<C>[];
}

/**
 * Sorts candidates into those to write and those to skip, against the database and against each other, in the
 * transaction that will write them: a slot that does not start after the context's "now" is in the past.
 */
export async function classify<C extends Candidate>(tx: ServiceContext, candidates: C[]): Promise<Classified<C>> {
  const { em } = tx;
  const now = tx.clock.now().getTime();
  const result: Classified<C> = { accepted: [], skippedBy: {}, clashes: [] };
  if (!candidates.length) return result;
  const doctorIds = [...new Set(candidates.map((c) => c.doctorId))];
  let from = Infinity;
  let to = -Infinity;
  for (const c of candidates) {
    if (c.startsAt < from) from = c.startsAt;
    if (c.endsAt > to) to = c.endsAt;
  }
  const [existing, leave] = await Promise.all([intervalsOf(em, 'slot', doctorIds, from, to), intervalsOf(em, 'doctor_leave', doctorIds, from, to)]);
  const skip = (reason: SkipReason) => {
    result.skippedBy[reason] = (result.skippedBy[reason] ?? 0) + 1;
  };
  const taken = new Map<number, { start: number; end: number }[]>();
  const sorted = [...candidates].sort((a, b) => a.doctorId - b.doctorId || a.startsAt - b.startsAt);
  for (const c of sorted) {
    if (c.startsAt <= now) {
      skip('past');
      result.clashes.push({ candidate: c, reason: 'past' });
      continue;
    }
    const onLeave = leave.get(c.doctorId)?.find(c.startsAt, c.endsAt);
    if (onLeave) {
      skip('leave');
      result.clashes.push({ candidate: c, reason: 'leave', with: onLeave.id });
      continue;
    }
    const hit = existing.get(c.doctorId)?.find(c.startsAt, c.endsAt);
    if (hit) {
      if (hit.start === c.startsAt && hit.end === c.endsAt) skip('exists');
      else {
        skip('overlap');
        result.clashes.push({ candidate: c, reason: 'overlap', with: hit.id });
      }
      continue;
    }
    const mine = taken.get(c.doctorId) ?? [];
    const last = mine.at(-1);
    if (last && c.startsAt < last.end) {
      if (last.start === c.startsAt && last.end === c.endsAt) skip('exists');
      else {
        skip('overlap');
        result.clashes.push({ candidate: c, reason: 'overlap' });
      }
      continue;
    }
    mine.push({ start: c.startsAt, end: c.endsAt });
    taken.set(c.doctorId, mine);
    result.accepted.push(c);
  }
  return result;
}

/** A refused explicit slot as one line, in the doctor's zone. */
export function describeClash(c: Clash, tz: string): string {
  const when = formatLocal(new Date(c.candidate.startsAt), tz);
  if (c.reason === 'past') return `${when} is in the past`;
  if (c.reason === 'leave') return `${when} is inside leave ${c.with} of doctor ${c.candidate.doctorId}`;
  return c.with ? `${when} overlaps slot ${c.with}` : `${when} overlaps another slot in the same input`;
}
