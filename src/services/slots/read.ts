// Reading slots: one, a page of them, and the zone their date filters are read in.
import { readContext } from '../../db/replica.js';
import type { EntityManager } from '@mikro-orm/postgresql';
import { NotFoundError } from '../../domain/errors.js';
import { id as idSchema, type Page } from '../../domain/schemas/common.js';
import { listSlotsInput, type ListSlotsInput } from '../../domain/schemas/slots.js';
import { parseDateInput } from '../../domain/time.js';
import { parseInput, type Untrusted } from '../../domain/validation.js';
import { slotView, type SlotRow, type SlotView } from '../../domain/views.js';
import type { ServiceContext } from '../context.js';
import { pageOfRows, query } from '../support.js';

const SLOT_COLUMNS = `s.id, s.doctor_id, u.name as doctor_name, d.specialty, s.clinic_id, c.name as clinic_name, c.city, c.timezone,
  s.starts_at, s.ends_at, s.capacity, s.booked_count, s.held_count, s.is_active`;
const SLOT_JOINS = `from slot s join doctor d on d.id = s.doctor_id join "user" u on u.id = d.user_id join clinic c on c.id = s.clinic_id`;

export async function getSlot({ em }: ServiceContext, id: number): Promise<SlotView> {
  const [row] = await query<SlotRow>(em, `select ${SLOT_COLUMNS} ${SLOT_JOINS} where s.id = ?`, [parseInput(idSchema, id)]);
  if (!row) throw new NotFoundError('slot', id);
  return slotView(row);
}

/**
 * The zone that date flags are read in: the doctor's or the clinic's; else, given a city, the zone its active
 * clinics share (a city whose clinics lie in several zones has none); else UTC.
 */
export async function zoneFor(em: EntityManager, doctorId?: number, clinicId?: number, city?: string): Promise<string> {
  if (doctorId) {
    const [r] = await query<{ timezone: string }>(em, 'select c.timezone from doctor d join clinic c on c.id = d.clinic_id where d.id = ?', [doctorId]);
    if (!r) throw new NotFoundError('doctor', doctorId, 'doctorId');
    return r.timezone;
  }
  if (clinicId) {
    const [r] = await query<{ timezone: string }>(em, 'select timezone from clinic where id = ?', [clinicId]);
    if (!r) throw new NotFoundError('clinic', clinicId, 'clinicId');
    return r.timezone;
  }
  if (city) {
    const zones = await query<{ timezone: string }>(em, 'select distinct timezone from clinic where is_active and lower(city) = lower(?) limit 2', [city]);
    if (zones.length === 1 && zones[0]) return zones[0].timezone;
  }
  return 'UTC';
}

/** All slots in a range (staff view): soonest first, with booked counts. Any signed-in user may look. */
export async function listSlots(ctx: ServiceContext, raw: ListSlotsInput | Untrusted): Promise<Page<SlotView>> {
  const input = parseInput(listSlotsInput, raw);
  const { em, clock } = await readContext(ctx);
  const at = { timeZone: await zoneFor(em, input.doctorId, input.clinicId), now: clock.now() };
  const where: string[] = [];
  const params: unknown[] = [];
  if (!input.includeInactive) where.push('s.is_active');
  if (input.doctorId) {
    where.push('s.doctor_id = ?');
    params.push(input.doctorId);
  }
  if (input.clinicId) {
    where.push('s.clinic_id = ?');
    params.push(input.clinicId);
  }
  if (input.from) {
    where.push('s.starts_at >= ?');
    params.push(parseDateInput(input.from, at, 'from').instant);
  }
  if (input.to) {
    where.push('s.starts_at < ?');
    params.push(parseDateInput(input.to, at, 'to', { endOfDay: true }).instant);
  }
  const { rows, total } = await pageOfRows<SlotRow>(
    em,
    `select ${SLOT_COLUMNS}, count(*) over () as total ${SLOT_JOINS} where ${where.join(' and ') || 'true'} order by s.starts_at, s.id`,
    params,
    input.limit,
    input.offset,
  );
  return { items: rows.map(slotView), total, limit: input.limit, offset: input.offset };
}
