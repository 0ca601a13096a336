// Offers: a place freed by a cancellation or a reschedule goes to the patient first in line for it, HELD for
// them (slot.held_count: no booking can take it) until they accept it, decline it, or it expires; then the
// next in line gets it, and so on, until nobody matches and the place is simply free.
//
// Lock order (../locks.ts): the offer's slot first (step 2), then the offer and its entry (step 4). The
// watcher runs inside the releasing transaction, which holds the slot already; accept, decline, leave and
// expiry lock the slot themselves first.
import { ConflictError, ForbiddenError, NotFoundError } from '../../domain/errors.js';
import { defined } from '../../domain/invariant.js';
import { isAdmin } from '../../domain/roles.js';
import type { OfferStatus, WaitlistOfferView } from '../../domain/schemas/waitlist.js';
import { bookingRefusal, bookLocked, type LockedSlot, lockSlotForBooking } from '../booking/core.js';
import type { FreedPlace } from '../booking/release.js';
import type { ServiceContext } from '../context.js';
import { LockRace, transaction } from '../locks.js';
import { emitEvent } from '../outbox.js';
import { patientIdOf, query } from '../support.js';
import {
  CLOSE_OFFER,
  DUE_OFFERS,
  EXPIRE_ENTRIES,
  LOCK_OFFER,
  type LockedOfferRow,
  MAKE_OFFER,
  NEXT_ENTRY,
  OFFER_ROWS,
  OFFER_SLOT,
  type OfferRow,
} from './sql.js';
import { offerTtlMs } from './settings.js';

/** The causes whose places are offered: a deleted slot or a doctor away frees places nobody can take. */
export const OFFERED_CAUSES: ReadonlySet<FreedPlace['cause']> = new Set(['cancelled', 'rescheduled']);

const iso = (v: Date | string) => new Date(v).toISOString();

export function offerView(r: OfferRow): WaitlistOfferView {
  return {
    id: r.id,
    entryId: r.entry_id,
    slotId: r.slot_id,
    patientId: r.patient_id,
    patientName: r.patient_name,
    status: r.status as OfferStatus,
    doctorId: r.doctor_id,
    doctorName: r.doctor_name,
    clinicId: r.clinic_id,
    clinicName: r.clinic_name,
    timezone: r.timezone,
    startsAt: iso(r.starts_at),
    endsAt: iso(r.ends_at),
    createdAt: iso(r.created_at),
    expiresAt: iso(r.expires_at),
    closedAt: r.closed_at === null ? null : iso(r.closed_at),
    appointmentId: r.appointment_id,
  };
}

async function readOffer(tx: ServiceContext, offerId: number): Promise<WaitlistOfferView> {
  const [row] = await query<OfferRow>(tx.em, `${OFFER_ROWS} where o.id = ?`, [offerId]);
  return offerView(defined(row, `offer ${offerId}`));
}

/**
 * The watcher (registered by ./watch.ts): each place freed by a cancellation or a reschedule is offered to the
 * first in line, inside the releasing transaction (which holds the slots). Others free nothing to offer.
 *
 * Except the places a move of several places frees at once (cause `rescheduled`: a longer visit's run, or a
 * series from an occurrence on): the move frees all its old places BEFORE booking the new ones in the same
 * transaction, and the new places may be old ones (a visit moved by one slot; a series moved by one week lands
 * each occurrence in the slot the next one leaves). A hold made now would take the very place a move goes into.
 * They are noted instead, and offered by the worker's next tick (offerNotedPlaces), when what stayed free is known.
 */
export async function offerFreedPlaces(tx: ServiceContext, freed: readonly FreedPlace[]): Promise<void> {
  for (const place of freed) {
    if (!OFFERED_CAUSES.has(place.cause)) continue;
    if (place.cause === 'rescheduled' && freed.length > 1) {
      await query(tx.em, 'insert into waitlist_freed_place (slot_id, except_patient_id, freed_at) values (?, ?, ?)', [
        place.slotId,
        place.patientId,
        tx.clock.now(),
      ]);
      continue;
    }
    await offerPlace(tx, place.slotId, place.patientId);
  }
}

/**
 * Offers a free place of slot `slotId` (locked by the caller) to the entry first in line, passing over
 * `exceptPatientId`: the offer holds the place, and `waitlist.offered` is emitted (the worker mails it).
 * Returns the offer, or null when nobody in line matches (the place stays free).
 */
export async function offerPlace(tx: ServiceContext, slotId: number, exceptPatientId: number): Promise<WaitlistOfferView | null> {
  const now = tx.clock.now();
  const [entry] = await query<{ id: number; patient_id: number }>(tx.em, NEXT_ENTRY, [slotId, now, exceptPatientId]);
  if (!entry) return null;
  const [made] = await query<{ id: number }>(tx.em, MAKE_OFFER, [now, new Date(now.getTime() + offerTtlMs()), entry.id, slotId, entry.patient_id]);
  const offer = await readOffer(tx, defined(made, 'the offer just made').id);
  await emitEvent(tx, { type: 'waitlist.offered', clinicId: offer.clinicId, appointmentId: null, data: offer });
  return offer;
}

/** What closing an offer does to its entry. */
const ENTRY_AFTER: Record<Exclude<OfferStatus, 'open'>, 'waiting' | 'fulfilled' | 'left'> = {
  accepted: 'fulfilled',
  // Declining one place or missing its deadline keeps the patient's place in line for the next.
  declined: 'waiting',
  expired: 'waiting',
  withdrawn: 'left',
};

/** Closes an open offer (slot and offer locked by the caller): the place is no longer held. */
export async function closeOffer(tx: ServiceContext, offerId: number, status: Exclude<OfferStatus, 'open'>): Promise<void> {
  const entryStatus = ENTRY_AFTER[status];
  const [closed] = await query<{ id: number }>(tx.em, CLOSE_OFFER, [status, tx.clock.now(), offerId, entryStatus, entryStatus]);
  if (!closed) throw new Error(`internal error: offer ${offerId} was not open when closed`);
}

/**
 * Inside the caller's transaction, in the lock order: the offer's slot FOR UPDATE (as a booking locks it), then
 * the offer FOR UPDATE.
 */
export async function lockOffer(tx: ServiceContext, offerId: number): Promise<{ offer: LockedOfferRow; slot: LockedSlot }> {
  const [found] = await query<{ slot_id: number }>(tx.em, OFFER_SLOT, [offerId]);
  if (!found) throw new NotFoundError('offer', offerId);
  const slot = defined(await lockSlotForBooking(tx.em, found.slot_id), `the slot of offer ${offerId}`);
  const [offer] = await query<LockedOfferRow>(tx.em, LOCK_OFFER, [offerId]);
  if (!offer || offer.slot_id !== slot.id) throw new LockRace(`offer ${offerId}`);
  return { offer, slot };
}

/** One transaction on a locked offer (lockOffer). */
async function onLockedOffer<T>(
  ctx: ServiceContext,
  offerId: number,
  work: (tx: ServiceContext, offer: LockedOfferRow, slot: LockedSlot) => Promise<T>,
): Promise<T> {
  return transaction(ctx, async (tx) => {
    const { offer, slot } = await lockOffer(tx, offerId);
    return work(tx, offer, slot);
  });
}

/** Patients act on their own offers, admins on anyone's; doctors do not. */
async function assertMayAct(tx: ServiceContext, offer: LockedOfferRow, action: string): Promise<void> {
  const { actor } = tx;
  if (isAdmin(actor)) return;
  if (actor.kind === 'user' && actor.role === 'patient' && (await patientIdOf(tx)) === offer.patient_id) return;
  if (actor.kind === 'user' && actor.role === 'doctor') throw new ForbiddenError(`doctors do not ${action} offers; the patient or an admin does`);
  // Another patient's offer: as if it did not exist.
  throw new NotFoundError('offer', offer.id);
}

function assertOpen(tx: ServiceContext, offer: LockedOfferRow): void {
  if (offer.status !== 'open') throw new ConflictError(`offer ${offer.id} is ${offer.status}, no longer open`);
  if (new Date(offer.expires_at).getTime() <= tx.clock.now().getTime()) {
    throw new ConflictError(`offer ${offer.id} expired at ${iso(offer.expires_at)}`);
  }
}

/**
 * Accepts an offer: in ONE transaction, its hold is released and the place booked through the booking core
 * (every rule, the capacity check, the audit event and appointment.booked); the entry is fulfilled.
 */
export async function acceptOffer(ctx: ServiceContext, offerId: number): Promise<WaitlistOfferView> {
  try {
    return await onLockedOffer(ctx, offerId, async (tx, offer, slot) => {
      await assertMayAct(tx, offer, 'accept');
      assertOpen(tx, offer);
      await closeOffer(tx, offer.id, 'accepted');
      const booked = await bookLocked(tx, slot, offer.patient_id, {});
      await query(tx.em, 'update waitlist_offer set appointment_id = ? where id = ?', [booked.appointmentId, offer.id]);
      const view = await readOffer(tx, offer.id);
      await emitEvent(tx, { type: 'waitlist.accepted', clinicId: view.clinicId, appointmentId: booked.appointmentId, data: view });
      return view;
    });
  } catch (err) {
    throw bookingRefusal(err);
  }
}

/** Declines an offer: the place goes to the next in line (or is free); the entry keeps waiting. */
export async function declineOffer(ctx: ServiceContext, offerId: number): Promise<WaitlistOfferView> {
  return onLockedOffer(ctx, offerId, async (tx, offer) => {
    await assertMayAct(tx, offer, 'decline');
    if (offer.status !== 'open') throw new ConflictError(`offer ${offer.id} is ${offer.status}, no longer open`);
    await closeOffer(tx, offer.id, 'declined');
    const view = await readOffer(tx, offer.id);
    await emitEvent(tx, { type: 'waitlist.declined', clinicId: view.clinicId, appointmentId: null, data: view });
    await offerPlace(tx, offer.slot_id, offer.patient_id);
    return view;
  });
}

/** Withdraws the open offer of an entry being left (the caller's transaction holds the slot and the offer). */
export async function withdrawOffer(tx: ServiceContext, offer: LockedOfferRow): Promise<void> {
  await closeOffer(tx, offer.id, 'withdrawn');
  await offerPlace(tx, offer.slot_id, offer.patient_id);
}

/** Offers one expiry transaction takes. */
const EXPIRY_BATCH = 100;

/**
 * The tick's part for places a longer visit's move freed (noted by offerFreedPlaces): each is offered now, if it
 * is still free, each in its own transaction in the lock order (the slot, then the note, then the entries).
 * Returns how many offers were made.
 */
export async function offerNotedPlaces(ctx: ServiceContext): Promise<number> {
  const noted = await query<{ id: number; slot_id: number }>(ctx.em.fork(), 'select id, slot_id from waitlist_freed_place order by id limit ?', [EXPIRY_BATCH]);
  let offered = 0;
  for (const note of noted) {
    const made = await transaction(ctx, async (tx) => {
      await lockSlotForBooking(tx.em, note.slot_id);
      const [taken] = await query<{ except_patient_id: number }>(tx.em, 'delete from waitlist_freed_place where id = ? returning except_patient_id', [note.id]);
      return taken ? (await offerPlace(tx, note.slot_id, taken.except_patient_id)) !== null : false;
    });
    if (made) offered++;
  }
  return offered;
}

export interface ExpiryScan {
  /** Offers expired (each passed on, or its place freed). */
  expired: number;
  /** Of those, passed on to the next in line. */
  passedOn: number;
  /** Entries whose window passed. */
  entriesExpired: number;
  /** Offers of places a longer visit's move freed. */
  offeredNoted: number;
}

/**
 * The worker's tick: every open offer past its deadline on the services' clock expires, each in its own
 * transaction in the lock order, and its place goes to the next in line; the places a longer visit's move freed
 * are offered; then waiting entries whose window has passed expire. An offer another worker expired meanwhile is skipped.
 */
export async function expireDue(ctx: ServiceContext): Promise<ExpiryScan> {
  const scan: ExpiryScan = { expired: 0, passedOn: 0, entriesExpired: 0, offeredNoted: 0 };
  for (;;) {
    const due = await query<{ id: number }>(ctx.em.fork(), DUE_OFFERS, [ctx.clock.now(), EXPIRY_BATCH]);
    for (const { id } of due) {
      const outcome = await onLockedOffer(ctx, id, async (tx, offer) => {
        if (offer.status !== 'open' || new Date(offer.expires_at).getTime() > tx.clock.now().getTime()) return null;
        await closeOffer(tx, offer.id, 'expired');
        const view = await readOffer(tx, offer.id);
        await emitEvent(tx, { type: 'waitlist.offer_expired', clinicId: view.clinicId, appointmentId: null, data: view });
        return (await offerPlace(tx, offer.slot_id, offer.patient_id)) !== null;
      });
      if (outcome === null) continue;
      scan.expired++;
      if (outcome) scan.passedOn++;
    }
    if (due.length < EXPIRY_BATCH) break;
  }
  scan.offeredNoted = await offerNotedPlaces(ctx);
  const now = ctx.clock.now();
  const [row] = await query<{ n: number }>(ctx.em.fork(), EXPIRE_ENTRIES, [now, now, now]);
  scan.entriesExpired = row?.n ?? 0;
  return scan;
}
