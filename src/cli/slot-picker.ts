// The slot picker of the guided booking and of reschedule on a terminal: specialty → city → day → slot, with
// "← back" at every step after the first, a "first free" choice, and, for a day with no free slot, the next
// days that have some. Never a dead end: every answer leads to another question, a slot, or back.
import type { SlotView } from '../domain/views.js';
import type { ServiceContext } from '../services/context.js';
import { ask, dateCheck, fitted } from './input.js';
import { visible } from './output.js';

export const BACK = Symbol('back');
export type Back = typeof BACK;
const OTHER_DAY = Symbol('another day');

/** How far ahead "first free" and "the next days that have some" look. */
const AHEAD_DAYS = 42;
/** How many of those next days are offered. */
const NEXT_DAYS = 7;
const DAY_MS = 86_400_000;

export interface PickerState {
  step: 'specialty' | 'city' | 'day' | 'slot';
  specialty?: string;
  city?: string;
  /** The day chosen (YYYY-MM-DD, the clinics' local day), for the slot step. */
  day?: string;
}

const out = { output: process.stderr };
const backChoice = { value: BACK, name: '← back' } as const;

/** `Thu 2026-03-12`: a local day with its weekday. */
function dayLabel(day: string): string {
  const weekday = new Date(`${day}T12:00:00Z`).toLocaleDateString('en-GB', { weekday: 'short', timeZone: 'UTC' });
  return `${weekday} ${day}`;
}

async function localDay(instant: string, timeZone: string): Promise<string> {
  const { localDateString } = await import('../domain/time.js');
  return localDateString(new Date(instant), timeZone);
}

const slotLine = async (s: SlotView) => {
  const { formatLocal } = await import('../domain/time-format.js');
  return visible(`${formatLocal(s.startsAt, s.timezone)}  ${s.doctorName}, ${s.clinicName}  (${s.remaining} left)`, 'space');
};

/**
 * Free slots of the specialty in the city from the start of `fromDay` (a local day: the window starts a day
 * early in UTC and each slot is placed on its own clinic's local day) for `days` days.
 */
async function freeByDay(services: ServiceContext, state: PickerState, fromDay: string, days: number): Promise<Map<string, SlotView[]>> {
  const { freeSlots } = await import('../services/slots.js');
  const from = new Date(Date.parse(`${fromDay}T00:00:00Z`) - DAY_MS).toISOString();
  const to = new Date(Date.parse(`${fromDay}T00:00:00Z`) + (days + 1) * DAY_MS).toISOString();
  const page = await freeSlots(services, { specialty: state.specialty, city: state.city, from, to, limit: 1000 });
  const byDay = new Map<string, SlotView[]>();
  for (const s of page.items) {
    const d = await localDay(s.startsAt, s.timezone);
    if (d < fromDay) continue;
    byDay.set(d, [...(byDay.get(d) ?? []), s]);
  }
  return byDay;
}

export interface Picked {
  slot: SlotView;
  /** Where the slot was chosen: a later "← back" resumes the picker there. */
  state: PickerState;
}

/** Runs the picker from `state` until a slot is chosen, or "← back" at the first step. */
export async function pickSlot(services: ServiceContext, start: PickerState, options: { backAtFirst?: boolean } = {}): Promise<Picked | Back> {
  const { select } = await import('@inquirer/prompts');
  const { bookingChoices } = await import('../services/doctors.js');
  const { freeSlots } = await import('../services/slots.js');
  let state: PickerState = { ...start };
  for (;;) {
    if (state.step === 'specialty') {
      const { specialties } = await bookingChoices(services);
      const choice = await select<string | Back>(
        {
          message: 'Specialty',
          choices: [...specialties.map((s) => ({ value: s, name: visible(s, 'space') })), ...(options.backAtFirst ? [backChoice] : [])],
          ...(state.specialty ? { default: state.specialty } : {}),
        },
        out,
      );
      if (choice === BACK) return BACK;
      state = { ...state, step: 'city', specialty: choice };
    } else if (state.step === 'city') {
      const { cities } = await bookingChoices(services, state.specialty);
      const choice = await select<string | Back>(
        {
          message: 'City',
          choices: [...cities.map((c) => ({ value: c, name: visible(c, 'space') })), backChoice],
          ...(state.city ? { default: state.city } : {}),
        },
        out,
      );
      state = choice === BACK ? { ...state, step: 'specialty' } : { ...state, step: 'day', city: choice };
    } else if (state.step === 'day') {
      const now = services.clock.now();
      const first = (
        await freeSlots(services, { specialty: state.specialty, city: state.city, to: new Date(now.getTime() + AHEAD_DAYS * DAY_MS).toISOString(), limit: 1 })
      ).items[0];
      // The clinic's tomorrow (the zone of the clinics that have this specialty in this city).
      const tomorrow = await localDay(new Date(now.getTime() + DAY_MS).toISOString(), first?.timezone ?? 'UTC');
      const tomorrowFree = first ? ((await freeByDay(services, state, tomorrow, 1)).get(tomorrow)?.length ?? 0) : 0;
      const choice = await select<string | SlotView | Back | typeof OTHER_DAY>(
        {
          message: first ? 'Day' : fitted(`Day (no free ${state.specialty} slots in ${state.city} in the next ${AHEAD_DAYS / 7} weeks)`),
          choices: [
            { value: tomorrow, name: `Tomorrow, ${dayLabel(tomorrow)} (${tomorrowFree ? `${tomorrowFree} free` : 'none free'})` },
            ...(first ? [{ value: first, name: `First free: ${await slotLine(first)}` }] : []),
            { value: OTHER_DAY, name: 'Another day…' },
            backChoice,
          ],
        },
        out,
      );
      if (choice === BACK) state = { ...state, step: 'city' };
      else if (typeof choice === 'object') return { slot: choice, state };
      else if (choice === OTHER_DAY) {
        const typed = await ask('Date (tomorrow, mon, +3d, YYYY-MM-DD …)', { default: tomorrow, check: dateCheck('--from') });
        const { parseDateInput } = await import('../domain/time.js');
        const parsed = parseDateInput(typed, { timeZone: first?.timezone ?? 'UTC', now: services.clock.now() }, 'date');
        state = { ...state, step: 'slot', day: await localDay(parsed.instant.toISOString(), first?.timezone ?? 'UTC') };
      } else state = { ...state, step: 'slot', day: choice };
    } else {
      const day = state.day ?? '';
      const byDay = await freeByDay(services, state, day, NEXT_DAYS * 2);
      const slots = byDay.get(day) ?? [];
      if (slots.length) {
        const choice = await select<SlotView | Back>(
          {
            message: `Slot on ${dayLabel(day)}`,
            choices: [...(await Promise.all(slots.map(async (s) => ({ value: s, name: await slotLine(s) })))), backChoice],
          },
          out,
        );
        if (choice === BACK) state = { ...state, step: 'day' };
        else return { slot: choice, state };
      } else {
        // No free slot that day: the next days that have some, never a dead end.
        const next = [...byDay.keys()].filter((d) => d > day).slice(0, NEXT_DAYS);
        const choice = await select<string | Back>(
          {
            message: fitted(
              `No free ${state.specialty} slots in ${state.city} on ${dayLabel(day)}. ${next.length ? 'The next days that have some:' : `None in the ${NEXT_DAYS * 2} days after either.`}`,
            ),
            choices: [...next.map((d) => ({ value: d, name: `${dayLabel(d)} (${byDay.get(d)?.length ?? 0} free)` })), backChoice],
          },
          out,
        );
        state = choice === BACK ? { ...state, step: 'day' } : { ...state, day: choice };
      }
    }
  }
}
