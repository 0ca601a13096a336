// Exporting appointments: every one the actor may see, as both edges export them (`appointments export`,
// GET /appointments.ics). The paging lives here once, so the CLI's file and the API's answer cannot differ.
import { appointmentsToIcs } from '../domain/ics.js';
import type { ListAppointmentsInput } from '../domain/schemas/appointments.js';
import type { AppointmentView } from '../domain/views.js';
import { listAppointments } from './appointments.js';
import type { ServiceContext } from './context.js';
import { everyPage } from './pages.js';
import type { Untrusted } from '../domain/validation.js';

/** The filters of `listAppointments`; an export has no pages (a limit or offset given is ignored). */
export type ExportFilters = Omit<ListAppointmentsInput, 'limit' | 'offset'>;

/** Every appointment the actor may see that matches the filters, soonest first, read a page at a time. */
export async function exportAppointments(ctx: ServiceContext, filters: ExportFilters | Untrusted): Promise<AppointmentView[]> {
  const items: AppointmentView[] = [];
  await everyPage(
    ctx,
    (tx, page) => listAppointments(tx, { ...filters, ...page }),
    (more) => {
      items.push(...more);
      return true;
    },
  );
  return items;
}

/** The same appointments as an iCalendar file (../domain/ics.ts), stamped with the context's "now". */
export async function exportCalendar(ctx: ServiceContext, filters: ExportFilters | Untrusted): Promise<string> {
  const now = ctx.clock.now();
  return appointmentsToIcs(await exportAppointments(ctx, filters), now);
}
