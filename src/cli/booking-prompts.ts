// The questions `appointments book` and `reschedule` ask on a terminal: the guided booking, the new slot of a
// reschedule, and the confirmation naming who, with whom, where and when.
import { ValidationError } from '../domain/errors.js';
import { formatLocal, formatLocalSpan, zoneAbbreviation } from '../domain/time-format.js';
import type { AppointmentView, ReferenceMatch, SlotView } from '../domain/views.js';
import { ask, fieldOf, fitted } from './input.js';
import { visible } from './output.js';
import { askPatient } from './references.js';
import type { PickerState } from './slot-picker.js';
import type { ServiceContext } from '../services/context.js';
import type { Repeat } from './series.js';

export interface BookingRequest {
  slotId: number;
  /** A longer visit: this many consecutive slots from slotId. */
  slots?: number;
  /** A recurring series from slotId on. */
  repeat?: Repeat;
  reason?: string;
  /** Who is booked, when an admin names them (a patient books themself). */
  patient?: ReferenceMatch;
}

/**
 * On a terminal with no --slot: patient (admins, by name) → specialty → city → day → slot → reason, each step
 * after the first with "← back" (in the reason, "<"), the day step with "first free" and the next days that
 * have free slots. The confirmation follows (confirmBooking).
 */
export async function chooseInteractively(services: ServiceContext, patient: ReferenceMatch | undefined): Promise<BookingRequest> {
  const { actor } = services;
  const { bookingChoices } = await import('../services/doctors.js');
  const { pickSlot } = await import('./slot-picker.js');
  const asksPatient = patient === undefined && actor.kind === 'user' && actor.role === 'admin';
  const { specialties } = await bookingChoices(services);
  if (!specialties.length) throw new ValidationError('there are no doctors to book with yet', '--slot');
  let who = patient;
  let state: PickerState = { step: 'specialty' };
  for (;;) {
    if (asksPatient && !who) who = await askPatient(services);
    const picked = await pickSlot(services, state, { backAtFirst: asksPatient });
    if (typeof picked === 'symbol') {
      who = undefined;
      continue;
    }
    state = picked.state;
    const reason = (
      await ask('Reason (optional; Enter to skip, < to go back)', {
        required: false,
        accept: (answer) => answer.trim() === '<',
        check: fieldOf(() => import('../domain/schemas/appointments.js').then((m) => m.bookInput), 'reason'),
      })
    ).trim();
    if (reason === '<') continue;
    return { slotId: picked.slot.id, ...(reason ? { reason } : {}), ...(who ? { patient: who } : {}) };
  }
}

/**
 * The slot picker of reschedule: the same doctor's free slots first (the next two weeks), then "another
 * doctor…", which opens the booking's picker at the appointment's specialty and city.
 */
export async function pickNewSlot(services: ServiceContext, a: AppointmentView): Promise<number> {
  const [{ select }, { freeSlots, getSlot }, { pickSlot }] = await Promise.all([
    import('@inquirer/prompts'),
    import('../services/slots.js'),
    import('./slot-picker.js'),
  ]);
  const current = await getSlot(services, a.slotId);
  const OTHER = 0;
  for (;;) {
    const same = (await freeSlots(services, { doctorId: a.doctorId, limit: 30 })).items.filter((s) => s.id !== a.slotId);
    const choice = await select(
      {
        message: fitted(
          `Move appointment ${a.id} (now ${formatLocal(a.startsAt, a.timezone)}) to${same.length ? ` — ${a.doctorName}'s free slots` : `: ${a.doctorName} has no free slot in the next two weeks`}`,
        ),
        choices: [
          ...same.map((s) => ({
            value: s.id,
            name: visible(`${formatLocal(s.startsAt, s.timezone)}  ${s.doctorName}, ${s.clinicName}  (${s.remaining} left)`, 'space'),
          })),
          { value: OTHER, name: 'Another doctor…' },
        ],
      },
      { output: process.stderr },
    );
    if (choice !== OTHER) return choice;
    const picked = await pickSlot(services, { step: 'day', specialty: current.specialty, city: current.city }, { backAtFirst: true });
    if (typeof picked !== 'symbol') return picked.slot.id;
  }
}

/** `Tue 8 Dec 2026, 09:20 IST`: the slot's local day with its weekday, the time and the zone's short name. */
export function whenText(instant: string, timeZone: string): string {
  const at = new Date(instant);
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('weekday')} ${part('day')} ${part('month')} ${part('year')}, ${part('hour')}:${part('minute')} ${zoneAbbreviation(at, timeZone)}`;
}

/** The question asked before a booking on a terminal: who, with whom, where and when, each id named. */
export const bookingQuestion = (patient: ReferenceMatch, slot: SlotView, slots = 1, series?: string): string =>
  `Book ${patient.name} (patient ${patient.id}, user ${patient.userId}) with ${slot.doctorName}, ${slot.clinicName}, ${slot.city} — ${whenText(slot.startsAt, slot.timezone)}${slots > 1 ? `, ${slots} slots from there` : ''}${series ? `, and the same time ${series}` : ''}?`;

/** When a booked appointment is, and for a longer visit how many slots: `Tue 2026-12-08 09:20–10:20 IST (3 slots)`. */
export const bookedWhen = (a: AppointmentView): string =>
  a.slots > 1 ? `${formatLocalSpan(a.startsAt, a.endsAt, a.timezone)} (${a.slots} slots)` : formatLocal(a.startsAt, a.timezone);

/**
 * On a terminal, asks before booking (unless --yes); false when the answer is no. Who is booked is the patient
 * named, or the patient who is booking; when neither is known (an admin who named nobody), the service's refusal
 * follows without a question.
 */
export async function confirmBooking(services: ServiceContext, request: BookingRequest): Promise<boolean> {
  const { ownPatient } = await import('../services/references.js');
  const patient = request.patient ?? (await ownPatient(services));
  if (!patient) return true;
  const { getSlot } = await import('../services/slots.js');
  const { confirm } = await import('@inquirer/prompts');
  const slot = await getSlot(services, request.slotId);
  return confirm({ message: visible(bookingQuestion(patient, slot, request.slots, request.repeat?.text), 'space'), default: true }, { output: process.stderr });
}

export interface BookFlags {
  slot?: number;
  slots?: number;
  patient?: string;
  reason?: string;
  yes?: boolean;
}
