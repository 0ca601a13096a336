// Waitlist entries: a patient waits for a place with a doctor, or with any doctor of a specialty (in a city or a
// clinic), between two local days and at some local times of day. Patients join and leave for themselves,
// admins for anyone; doctors see the entries that could take their places. The offers: ./offers.ts.
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { defined } from '../../domain/invariant.js';
import { isAdmin } from '../../domain/roles.js';
import type { Page } from '../../domain/schemas/common.js';
import {
  type EntryStatus,
  joinWaitlistInput,
  type JoinWaitlistInput,
  listWaitlistInput,
  type ListWaitlistInput,
  type WaitlistEntryView,
} from '../../domain/schemas/waitlist.js';
import { clockText, localDateString, parseCalendarDate, parseClock } from '../../domain/time.js';
import { parseInput, type Untrusted } from '../../domain/validation.js';
import type { ServiceContext } from '../context.js';
import { lockParentForChange, LockRace, transaction } from '../locks.js';
import { constraintOf, doctorIdOf, pageOfRows, patientIdOf, query } from '../support.js';
import { lockOffer, offerView, withdrawOffer } from './offers.js';
import { ENTRY_ROWS, type EntryRow, OFFER_ROWS, type OfferRow } from './sql.js';

/** How many entries a patient may have waiting (or offered) at once: enough for real choices, not a flood. */
export const MAX_OPEN_ENTRIES = 10;

/** Whose entry: a patient's own, anyone's for an admin; doctors do not join or leave. */
async function entryPatient(ctx: ServiceContext, patientId: number | undefined, action: string): Promise<number> {
  const { actor } = ctx;
  if (actor.kind === 'user' && actor.role === 'doctor') throw new ForbiddenError(`doctors do not ${action} the waitlist; the patient or an admin does`);
  if (actor.kind === 'user' && actor.role === 'patient') {
    const own = await patientIdOf(ctx);
    if (!own) throw new ForbiddenError('your user has no patient record; ask an admin');
    if (patientId !== undefined && patientId !== own) throw new ForbiddenError(`patients ${action} the waitlist for themselves only`, 'patientId');
    return own;
  }
  if (!isAdmin(actor)) throw new ForbiddenError(`${action}ing the waitlist needs the patient or admin role`);
  if (patientId === undefined) throw new ValidationError('is required when an admin adds an entry', 'patientId');
  return patientId;
}

/** `08:00-12:00,14:00-17:00` (or a list of ranges) as minute ranges, start included, end excluded, in order. */
export function parseTimes(raw: string | readonly string[]): [number, number][] {
  const parts = (typeof raw === 'string' ? raw.split(',') : raw.flatMap((r) => r.split(','))).map((p) => p.trim()).filter(Boolean);
  if (!parts.length) throw new ValidationError('must name at least one range such as 08:00-12:00', 'times');
  return parts
    .map((part): [number, number] => {
      const [from, to, ...rest] = part.split('-');
      if (from === undefined || to === undefined || rest.length) throw new ValidationError(`must be ranges such as 08:00-12:00 (got "${part}")`, 'times');
      const range: [number, number] = [parseClock(from, 'times'), parseClock(to, 'times')];
      if (range[1] <= range[0]) throw new ValidationError(`must end after it starts (got "${part}")`, 'times');
      return range;
    })
    .sort((a, b) => a[0] - b[0]);
}

const multirange = (ranges: readonly [number, number][]) => `{${ranges.map(([a, b]) => `[${a},${b})`).join(',')}}`;

/** `{[480,720),[840,1020)}` back as `08:00-12:00`, `14:00-17:00`. */
function timesText(text: string | null): string[] | null {
  if (text === null) return null;
  return [...text.matchAll(/\[(\d+),(\d+)\)/g)].map(([, a, b]) => `${clockText(Number(a))}-${clockText(Number(b))}`);
}

interface Match {
  doctorId: number | null;
  specialty: string | null;
  city: string | null;
  clinicId: number | null;
  /** The zone its days are read in: the doctor's or clinic's, or a clinic's of the city or the specialty. */
  timezone: string;
}

/** What the entry waits for, checked against the directory, with the zone its days are read in. */
async function matchOf(ctx: ServiceContext, input: { doctorId?: number; specialty?: string; city?: string; clinicId?: number }): Promise<Match> {
  if (input.doctorId !== undefined) {
    const [doctor] = await query<{ timezone: string }>(ctx.em, 'select c.timezone from doctor d join clinic c on c.id = d.clinic_id where d.id = ?', [
      input.doctorId,
    ]);
    if (!doctor) throw new NotFoundError('doctor', input.doctorId, 'doctorId');
    return { doctorId: input.doctorId, specialty: null, city: null, clinicId: null, timezone: doctor.timezone };
  }
  const specialty = defined(input.specialty, 'the specialty');
  if (input.clinicId !== undefined) {
    const [clinic] = await query<{ timezone: string }>(ctx.em, 'select timezone from clinic where id = ?', [input.clinicId]);
    if (!clinic) throw new NotFoundError('clinic', input.clinicId, 'clinicId');
  }
  const [zone] = await query<{ timezone: string }>(
    ctx.em,
    `select c.timezone from doctor d join clinic c on c.id = d.clinic_id
      where lower(d.specialty) = lower(?) and (?::int is null or c.id = ?::int) and (?::text is null or lower(c.city) = lower(?::text))
      order by d.is_active desc, c.id limit 1`,
    [specialty, input.clinicId ?? null, input.clinicId ?? null, input.city ?? null, input.city ?? null],
  );
  if (!zone) {
    const where = input.clinicId !== undefined ? ` in clinic ${input.clinicId}` : input.city !== undefined ? ` in ${input.city}` : '';
    throw new ValidationError(`no doctor has the specialty "${specialty}"${where}`, 'specialty');
  }
  return { doctorId: null, specialty, city: input.city ?? null, clinicId: input.clinicId ?? null, timezone: zone.timezone };
}

/**
 * Adds a patient to the waitlist. The window's days are read in the match's zone (`tomorrow`, `+3d`, YYYY-MM-DD);
 * it must end on or after it starts and not be wholly past. A patient waits once for one match and window, and
 * has at most MAX_OPEN_ENTRIES open entries (counted under a lock of the patient row: two joins at once cannot
 * both pass).
 */
export async function joinWaitlist(ctx: ServiceContext, raw: JoinWaitlistInput | Untrusted): Promise<WaitlistEntryView> {
  const input = parseInput(joinWaitlistInput, raw);
  const patientId = await entryPatient(ctx, input.patientId, 'join');
  const match = await matchOf(ctx, input);
  const at = { timeZone: match.timezone, now: ctx.clock.now() };
  const from = parseCalendarDate(input.from, 'from', at);
  const to = parseCalendarDate(input.to, 'to', at);
  if (to < from) throw new ValidationError(`must be on or after --from (${from}; got ${to})`, 'to');
  const today = localDateString(at.now, match.timezone);
  if (to < today) throw new ValidationError(`is in the past (today is ${today} in ${match.timezone}): the window must not be wholly past`, 'to');
  const times = input.times === undefined ? null : multirange(parseTimes(input.times));
  const id = await transaction(ctx, async (tx) => {
    if (!(await lockParentForChange(tx.em, 'patient', patientId))) throw new NotFoundError('patient', patientId, 'patientId');
    const [open] = await query<{ n: number }>(
      tx.em,
      `select count(*)::int as n from waitlist_entry where patient_id = ? and status in ('waiting', 'offered')`,
      [patientId],
    );
    if ((open?.n ?? 0) >= MAX_OPEN_ENTRIES) {
      throw new ConflictError(`patient ${patientId} already has ${MAX_OPEN_ENTRIES} open waitlist entries (the most allowed); leave one first`, 'patientId');
    }
    const now = tx.clock.now();
    try {
      const [row] = await query<{ id: number }>(
        tx.em,
        `insert into waitlist_entry (created_at, updated_at, patient_id, doctor_id, specialty, city, clinic_id, from_day, to_day, times, timezone)
         values (?, ?, ?, ?, ?, ?, ?, ?::date, ?::date, ?::int4multirange, ?) returning id`,
        [now, now, patientId, match.doctorId, match.specialty, match.city, match.clinicId, from, to, times, match.timezone],
      );
      return defined(row, 'the entry just added').id;
    } catch (err) {
      if (constraintOf(err).constraint === 'waitlist_entry_once') {
        throw new ConflictError(`patient ${patientId} already waits for this match from ${from} to ${to}`, 'patientId');
      }
      throw err;
    }
  });
  return getEntry(ctx, id);
}

/** Who sees which entries: patients their own, doctors those that could take their places, admins all. */
async function visibility(ctx: ServiceContext): Promise<{ where: string; params: unknown[] }> {
  const { actor } = ctx;
  if (isAdmin(actor)) return { where: 'true', params: [] };
  if (actor.kind === 'user' && actor.role === 'patient') return { where: 'e.patient_id = ?', params: [(await patientIdOf(ctx)) ?? 0] };
  if (actor.kind === 'user' && actor.role === 'doctor') {
    // Entries for them by name, and entries for their specialty in their clinic or its city (or anywhere).
    return {
      where: `exists (select 1 from doctor me join clinic mc on mc.id = me.clinic_id where me.id = ?
                 and (e.doctor_id = me.id
                      or (e.doctor_id is null and lower(e.specialty) = lower(me.specialty)
                          and (e.clinic_id is null or e.clinic_id = mc.id) and (e.city is null or lower(e.city) = lower(mc.city)))))`,
      params: [(await doctorIdOf(ctx)) ?? 0],
    };
  }
  throw new ForbiddenError('the waitlist needs a signed-in patient, doctor or admin');
}

async function entryViews(ctx: ServiceContext, rows: readonly EntryRow[]): Promise<WaitlistEntryView[]> {
  const offers = rows.length
    ? await query<OfferRow>(ctx.em, `${OFFER_ROWS} where o.entry_id = any(?::int[]) and o.status = 'open'`, [`{${rows.map((r) => r.id).join(',')}}`])
    : [];
  const byEntry = new Map(offers.map((o) => [o.entry_id, offerView(o)]));
  return rows.map((r) => ({
    id: r.id,
    patientId: r.patient_id,
    patientName: r.patient_name,
    doctorId: r.doctor_id,
    doctorName: r.doctor_name,
    specialty: r.specialty,
    city: r.city,
    clinicId: r.clinic_id,
    from: r.from_day,
    to: r.to_day,
    times: timesText(r.times),
    status: r.status as EntryStatus,
    createdAt: new Date(r.created_at).toISOString(),
    closedAt: r.closed_at === null ? null : new Date(r.closed_at).toISOString(),
    offer: byEntry.get(r.id) ?? null,
  }));
}

/** One entry, as its viewer may see it (another patient's is not found). */
export async function getEntry(ctx: ServiceContext, id: number): Promise<WaitlistEntryView> {
  const seen = await visibility(ctx);
  const rows = await query<EntryRow>(ctx.em, `${ENTRY_ROWS} where e.id = ? and ${seen.where}`, [id, ...seen.params]);
  const [view] = await entryViews(ctx, rows);
  if (!view) throw new NotFoundError('waitlist entry', id);
  return view;
}

/** The entries the actor may see, in line order (oldest first), optionally of one status. */
export async function listWaitlist(ctx: ServiceContext, raw: ListWaitlistInput | Untrusted = {}): Promise<Page<WaitlistEntryView>> {
  const input = parseInput(listWaitlistInput, raw);
  const seen = await visibility(ctx);
  const { rows, total } = await pageOfRows<EntryRow>(
    ctx.em,
    `${ENTRY_ROWS} where ${seen.where} and (?::text is null or e.status = ?::text) order by e.created_at, e.id`,
    [...seen.params, input.status ?? null, input.status ?? null],
    input.limit,
    input.offset,
  );
  return { items: await entryViews(ctx, rows), total, limit: input.limit, offset: input.offset };
}

/**
 * Takes an entry off the waitlist (the patient's own, or anyone's for an admin). An open offer of it is
 * withdrawn and its place passed to the next in line, in the lock order: the offer's slot, then the offer and
 * the entry.
 */
export async function leaveWaitlist(ctx: ServiceContext, id: number): Promise<WaitlistEntryView> {
  const entry = await getEntry(ctx, id);
  await entryPatient(ctx, entry.patientId, 'leave');
  if (entry.status !== 'waiting' && entry.status !== 'offered') throw new ConflictError(`waitlist entry ${id} is ${entry.status}, not waiting`);
  await transaction(ctx, async (tx) => {
    const [open] = await query<{ id: number }>(tx.em, `select id from waitlist_offer where entry_id = ? and status = 'open'`, [id]);
    if (open) {
      const { offer } = await lockOffer(tx, open.id);
      if (offer.status !== 'open') throw new LockRace(`the offer of waitlist entry ${id}`);
      return withdrawOffer(tx, offer);
    }
    const [left] = await query<{ id: number }>(
      tx.em,
      `update waitlist_entry set status = 'left', closed_at = ?, updated_at = ? where id = ? and status = 'waiting' returning id`,
      [tx.clock.now(), tx.clock.now(), id],
    );
    if (left) return;
    const [now] = await query<{ status: string }>(tx.em, 'select status from waitlist_entry where id = ?', [id]);
    if (now && now.status !== 'offered') throw new ConflictError(`waitlist entry ${id} is ${now.status}, not waiting`);
    // Offered meanwhile: the transaction runs again, and withdraws the offer under its slot's lock.
    throw new LockRace(`waitlist entry ${id}`);
  });
  return getEntry(ctx, id);
}
