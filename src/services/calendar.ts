// Exporting appointments: every one the actor may see, as both edges export them (`appointments export`,
// GET /appointments.ics). The paging lives here once, so the CLI's file and the API's answer cannot differ.
import { appointmentsToIcs } from '../domain/ics.js';
import type { ListAppointmentsInput } from '../domain/schemas/appointments.js';
import type { AppointmentView } from '../domain/views.js';
import { listAppointments } from './appointments.js';
import type { ServiceContext } from './context.js';
import type { Untrusted } from '../domain/validation.js';

/** The filters of `listAppointments`; an export has no pages (a limit or offset given is ignored). */
export type ExportFilters = Omit<ListAppointmentsInput, 'limit' | 'offset'>;

/** Appointments per query while exporting: the most a page of `listAppointments` may hold. */
const PAGE = 1000;

/** Every appointment the actor may see that matches the filters, soonest first, read a page at a time. */
export async function exportAppointments(ctx: ServiceContext, filters: ExportFilters | Untrusted): Promise<AppointmentView[]> {
  const items: AppointmentView[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await listAppointments(ctx, { ...filters, limit: PAGE, offset });
    items.push(...page.items);
    if (items.length >= page.total || !page.items.length) break;
  }
  return items;
}

/** The same appointments as an iCalendar file (../domain/ics.ts), stamped with the context's "now". */
export async function exportCalendar(ctx: ServiceContext, filters: ExportFilters | Untrusted): Promise<string> {
  const now = ctx.clock.now();
  return appointmentsToIcs(await exportAppointments(ctx, filters), now);
}
