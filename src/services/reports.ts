// Utilisation: how much of the offered capacity was booked, per doctor and clinic-local day, and how often
// booked patients did not come.
import { readContext } from '../db/replica.js';
import { ForbiddenError } from '../domain/errors.js';
import { isAdmin } from '../domain/roles.js';
import type { Page } from '../domain/schemas/common.js';
import { utilisationInput, type UtilisationInput } from '../domain/schemas/appointments.js';
import { localDateString, parseCalendarDate } from '../domain/time.js';
import { parseInput, type Untrusted } from '../domain/validation.js';
import { utilisationView, type UtilisationView } from '../domain/views.js';
import type { ServiceContext } from './context.js';
import { utilisationRows } from './sql/utilisation.js';
import { zoneFor } from './slots/read.js';
import { doctorIdOf } from './support.js';

/**
 * Admins see every doctor; a doctor only themself. Days are each clinic's local days; the range defaults
 * to the 30 days before and after today. "Today" (and `tomorrow`, `mon`, `-2w` typed as a day) is the
 * clinic's or the doctor's filtered on, else UTC's.
 */
export async function utilisationReport(ctx: ServiceContext, raw: UtilisationInput | Untrusted): Promise<Page<UtilisationView>> {
  const input = parseInput(utilisationInput, raw);
  ctx = await readContext(ctx);
  let doctorId = input.doctorId;
  if (!isAdmin(ctx.actor)) {
    const own = await doctorIdOf(ctx);
    if (!own) throw new ForbiddenError('the utilisation report needs the admin role, or to be a doctor');
    if (doctorId !== undefined && doctorId !== own) throw new ForbiddenError('doctors see their own utilisation only', 'doctorId');
    doctorId = own;
  }
  const at = { timeZone: await zoneFor(ctx.em, doctorId, input.clinicId), now: ctx.clock.now() };
  const today = localDateString(at.now, at.timeZone);
  const shift = (days: number) => new Date(Date.parse(today) + days * 86_400_000).toISOString().slice(0, 10);
  const from = input.from ? parseCalendarDate(input.from, 'from', at) : shift(-30);
  const to = input.to ? parseCalendarDate(input.to, 'to', at) : shift(30);
  const { rows, total } = await utilisationRows(ctx.em, { from, to, clinicId: input.clinicId ?? null, doctorId: doctorId ?? null }, input.limit, input.offset);
  const items = rows.map(utilisationView);
  return { items, total, limit: input.limit, offset: input.offset };
}
