// iCalendar (RFC 5545) for appointments: one VEVENT each, times in UTC, lines folded at 75 octets, CRLF.
import type { AppointmentView } from './views.js';

const CRLF = '\r\n';

/** TEXT value escaping (RFC 5545 §3.3.11). */
export function escapeText(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r?\n/g, '\\n');
}

/** Folds a content line to at most 75 octets per line, never splitting a UTF-8 character (§3.1). */
export function foldLine(line: string): string {
  const out: string[] = [];
  let current = '';
  let octets = 0;
  for (const ch of line) {
    const size = Buffer.byteLength(ch, 'utf8');
    const limit = out.length ? 74 : 75; // continuation lines start with a space
    if (octets + size > limit) {
      out.push(current);
      current = '';
      octets = 0;
    }
    current += ch;
    octets += size;
  }
  out.push(current);
  return out.join(`${CRLF} `);
}

const stamp = (iso: string) => iso.replace(/[-:]/g, '').replace(/\.\d{3}/, '');

export function appointmentsToIcs(appointments: AppointmentView[], now = new Date()): string {
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//ascend//appointments//EN', 'CALSCALE:GREGORIAN', 'METHOD:PUBLISH'];
  for (const a of appointments) {
    const description = [`Patient: ${a.patientName}`, a.reason ? `Reason: ${a.reason}` : '', `Status: ${a.status}`].filter(Boolean).join('\n');
    lines.push(
      'BEGIN:VEVENT',
      `UID:appointment-${a.id}@ascend`,
      `DTSTAMP:${stamp(now.toISOString())}`,
      `DTSTART:${stamp(a.startsAt)}`,
      `DTEND:${stamp(a.endsAt)}`,
      `SUMMARY:${escapeText(`Appointment with ${a.doctorName}`)}`,
      `LOCATION:${escapeText(a.clinicName)}`,
      `DESCRIPTION:${escapeText(description)}`,
      `STATUS:${a.status === 'cancelled' ? 'CANCELLED' : 'CONFIRMED'}`,
      `LAST-MODIFIED:${stamp(a.updatedAt)}`,
      'END:VEVENT',
    );
  }
  lines.push('END:VCALENDAR');
  return lines.map(foldLine).join(CRLF) + CRLF;
}
