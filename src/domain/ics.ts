// iCalendar (RFC 5545) for appointments, written by ical-generator: one VEVENT each with a stable UID, times in
// UTC (calendars show them in the reader's zone), TEXT escaped, lines folded at 75 octets, CRLF.
import ical, { ICalCalendarMethod, type ICalEventData, ICalEventStatus } from 'ical-generator';
import { normaliseNewlines, showControls } from './text.js';
import type { AppointmentView } from './views.js';

/**
 * Stored text as a calendar may carry it. ical-generator escapes `\ ; ,` and line ends but passes other
 * control characters through, which RFC 5545 forbids in TEXT (and calendars act on or choke on): old rows may
 * hold them, so they are shown as escapes like the CLI shows them.
 */
const calendarText = (text: string): string => showControls(normaliseNewlines(text));

/** The UID of an appointment's event: the same in the export and in every email, so calendars update one event. */
export const appointmentUid = (id: number): string => `appointment-${id}@ascend`;

/** An appointment as one VEVENT: what the export and the emails' invitations share. */
export function appointmentEvent(a: AppointmentView, now: Date): ICalEventData {
  const description = [`Patient: ${a.patientName}`, a.reason ? `Reason: ${a.reason}` : '', `Status: ${a.status}`].filter(Boolean).join('\n');
  return {
    id: appointmentUid(a.id),
    stamp: now,
    start: new Date(a.startsAt),
    end: new Date(a.endsAt),
    summary: calendarText(`Appointment with ${a.doctorName}`),
    location: calendarText(a.clinicName),
    description: calendarText(description),
    status: a.status === 'cancelled' ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
    lastModified: new Date(a.updatedAt),
  };
}

export function appointmentsToIcs(appointments: AppointmentView[], now: Date): string {
  const calendar = ical({ prodId: '//ascend//appointments//EN', method: ICalCalendarMethod.PUBLISH, scale: 'GREGORIAN' });
  for (const a of appointments) calendar.createEvent(appointmentEvent(a, now));
  return `${calendar.toString()}\r\n`;
}
