// What each email says: for an appointment event (booked, rescheduled, moved, cancelled, reminder) the
// subject, the text and the calendar invitation, all from the appointment as the event carries it (so a retry
// sends the same message), its times in the clinic's zone.
import { formatLocal, formatLocalSpan } from '../../domain/time-format.js';
import type { AppointmentView } from '../../domain/views.js';
import { invitationIcs } from './ics.js';
import type { MailConfig, OutgoingMail } from './transport.js';

/** The events that are mailed to the patient, and the kind of message each makes. */
export const MAILED_EVENTS = {
  'appointment.booked': 'booked',
  'appointment.rescheduled': 'rescheduled',
  'appointment.moved': 'moved',
  'appointment.cancelled': 'cancelled',
  'appointment.reminder': 'reminder',
} as const;
export type MailKind = (typeof MAILED_EVENTS)[keyof typeof MAILED_EVENTS];

export const isMailedEvent = (type: string): type is keyof typeof MAILED_EVENTS => Object.hasOwn(MAILED_EVENTS, type);

/** The event types that change the calendar event (SEQUENCE counts them; a booking is 0, a reminder changes nothing). */
export const SEQUENCE_EVENTS = ['appointment.rescheduled', 'appointment.moved', 'appointment.cancelled'] as const;

export interface AppointmentMail {
  kind: MailKind;
  appointment: AppointmentView;
  /** For a reminder: how long before the start, as the clinic set it (`24h`). */
  remindBefore?: string;
  /** The calendar event's SEQUENCE for this message. */
  sequence: number;
  to: string;
  /** DTSTAMP of the invitation. */
  now: Date;
}

/** The subject line of an appointment's email. */
export function mailSubject(kind: MailKind, a: AppointmentView, remindBefore?: string): string {
  const when = formatLocalSpan(a.startsAt, a.endsAt, a.timezone);
  switch (kind) {
    case 'booked':
      return `Appointment booked: ${when}`;
    case 'rescheduled':
      return `Appointment rescheduled: ${when}`;
    case 'moved':
      return `Appointment time changed: ${when}`;
    case 'cancelled':
      return `Appointment cancelled: ${when}`;
    case 'reminder':
      return `Reminder${remindBefore ? ` (${remindBefore} before)` : ''}: ${a.doctorName}, ${when}`;
  }
}

function openingOf(kind: MailKind, a: AppointmentView, when: string): string {
  const withWhom = `your appointment with ${a.doctorName} at ${a.clinicName}`;
  switch (kind) {
    case 'booked':
      return `${capitalised(withWhom)} is booked for ${when}.`;
    case 'rescheduled':
      return `${capitalised(withWhom)} is now on ${when}.`;
    case 'moved':
      return `The clinic moved ${withWhom}: it is now on ${when}.`;
    case 'cancelled':
      return `${capitalised(withWhom)} on ${when} is cancelled${a.cancelReason ? ` (${a.cancelReason})` : ''}.`;
    case 'reminder':
      return `A reminder of ${withWhom} on ${when}.`;
  }
}

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** The email about an appointment event, with its invitation (CANCEL for a cancellation). */
export function appointmentMail(mail: AppointmentMail, config: MailConfig): OutgoingMail {
  const a = mail.appointment;
  const when = formatLocalSpan(a.startsAt, a.endsAt, a.timezone);
  const text = [
    `Hello ${a.patientName},`,
    '',
    openingOf(mail.kind, a, when),
    ...(a.reason && mail.kind !== 'cancelled' ? [`Reason: ${a.reason}`] : []),
    '',
    mail.kind === 'cancelled'
      ? 'The attached invitation removes it from your calendar.'
      : 'The attached invitation puts it in your calendar, and later messages update it there.',
    `Appointment ${a.id}, ${a.clinicName}.`,
  ].join('\n');
  const method = mail.kind === 'cancelled' ? 'CANCEL' : 'REQUEST';
  return {
    to: mail.to,
    subject: mailSubject(mail.kind, a, mail.remindBefore),
    text,
    calendar: {
      method,
      content: invitationIcs(a, {
        method,
        sequence: mail.sequence,
        organizer: { name: config.from.replace(/\s*<[^<>]*>\s*$/, '') || config.fromAddress, email: config.fromAddress },
        attendee: { name: a.patientName, email: mail.to },
        now: mail.now,
      }),
    },
  };
}

/** The event mailed to a waiting patient when a place is offered (its data is the offer, not an appointment). */
export const OFFER_EVENT = 'waitlist.offered';

/** What an offer's email needs of the offer (WaitlistOfferView, as the event carries it). */
export interface OfferMail {
  id: number;
  patientName: string;
  doctorName: string;
  clinicName: string;
  timezone: string;
  startsAt: string;
  endsAt: string;
  expiresAt: string;
}

export const offerSubject = (o: OfferMail): string => `A place is free: ${o.doctorName}, ${formatLocalSpan(o.startsAt, o.endsAt, o.timezone)}`;

/** The email offering a held place: how to take it, and until when (no invitation: nothing is booked yet). */
export function offerMail(o: OfferMail, to: string): OutgoingMail {
  const text = [
    `Hello ${o.patientName},`,
    '',
    `A place you are waiting for is free: ${o.doctorName} at ${o.clinicName}, ${formatLocalSpan(o.startsAt, o.endsAt, o.timezone)}.`,
    `It is held for you until ${formatLocal(o.expiresAt, o.timezone)}; after that it goes to the next patient waiting.`,
    '',
    `To take it: ascend waitlist accept ${o.id} (or POST /api/v1/waitlist/offers/${o.id}/accept).`,
    `To let it go now: ascend waitlist decline ${o.id}. You stay on the waitlist either way until you are booked.`,
  ].join('\n');
  return { to, subject: offerSubject(o), text };
}
