// The calendar invitation an email carries (RFC 5546 iTIP): the appointment's event under the UID the export
// uses, METHOD:REQUEST while it stands and METHOD:CANCEL once cancelled, SEQUENCE counting its changes so a
// calendar replaces the one event it holds instead of adding another. ORGANIZER is the sender, ATTENDEE the
// patient.
import ical, { ICalAttendeeRole, ICalAttendeeStatus, ICalCalendarMethod } from 'ical-generator';
import { appointmentEvent } from '../../domain/ics.js';
import type { AppointmentView } from '../../domain/views.js';

export interface Invitation {
  method: 'REQUEST' | 'CANCEL';
  /** 0 when booked, one more with each reschedule, move and cancellation. */
  sequence: number;
  organizer: { name: string; email: string };
  attendee: { name: string; email: string };
  /** DTSTAMP: when the message was made. */
  now: Date;
}

export function invitationIcs(appointment: AppointmentView, invitation: Invitation): string {
  const method = invitation.method === 'CANCEL' ? ICalCalendarMethod.CANCEL : ICalCalendarMethod.REQUEST;
  const calendar = ical({ prodId: '//ascend//appointments//EN', method, scale: 'GREGORIAN' });
  calendar.createEvent({
    ...appointmentEvent(appointment, invitation.now),
    sequence: invitation.sequence,
    organizer: invitation.organizer,
    attendees: [
      {
        name: invitation.attendee.name,
        email: invitation.attendee.email,
        role: ICalAttendeeRole.REQ,
        status: ICalAttendeeStatus.ACCEPTED,
      },
    ],
  });
  return `${calendar.toString()}\r\n`;
}
