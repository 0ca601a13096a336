// One shape of audit event: the rows written inside the booking statements (bookings, reschedules, released
// places) are the rows `audit()` writes through the ORM for the same entry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM, type Actor } from '../../src/domain/roles.js';
import { bookAppointment, cancelAppointment, rescheduleAppointment } from '../../src/services/appointments.js';
import { audit, type AuditEntry } from '../../src/services/audit.js';
import { transaction } from '../../src/services/locks.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedSlot } from '../support/fixtures.js';
import { day } from '../support/clock.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

interface EventRow {
  id: string;
  /** The row as jsonb, without its id and time: every other column, with its value and its JSON type. */
  row: Record<string, unknown>;
  /** The JSON type of each column (id and at included). */
  types: Record<string, string>;
}

const EVENT = `select id, to_jsonb(e) - 'id' - 'at' as row, (select jsonb_object_agg(key, jsonb_typeof(value)) from jsonb_each(to_jsonb(e))) as types
                 from audit_event e`;

async function lastEvent(action: string, entityId: number): Promise<EventRow> {
  const [event] = await db.sql<EventRow>(`${EVENT} where action = $1 and entity_id = $2 order by id desc limit 1`, [action, String(entityId)]);
  if (!event) throw new Error(`no ${action} event for ${entityId}`);
  return event;
}

/** The event `audit()` writes, through the unit of work, for `entry` by `actor`. */
async function viaOrm(actor: Actor, entry: AuditEntry): Promise<EventRow> {
  await transaction(db.ctx(actor), async (tx) => audit(tx, entry));
  return lastEvent(entry.action, Number(entry.entityId));
}

describe('one shape of audit event', () => {
  it('a booking, a reschedule and a cancellation write the very rows audit() writes for the same entries (same keys, types and values)', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const from = await seedSlot(db, doctor.id, `${day(9)}T04:00:00Z`, 20, 2);
    const to = await seedSlot(db, doctor.id, `${day(10)}T04:00:00Z`, 20, 2);
    const { patient, actor } = await makePatient(db);

    const booked = await bookAppointment(db.ctx(actor), { slotId: from, reason: 'check-up' });
    const bookEvent = await lastEvent('appointment.book', booked.id);
    await rescheduleAppointment(db.ctx(actor), booked.id, { slotId: to });
    const rescheduleEvent = await lastEvent('appointment.reschedule', booked.id);
    await cancelAppointment(db.ctx(actor), booked.id, { reason: 'feeling better' });
    const cancelEvent = await lastEvent('appointment.cancel', booked.id);

    const entries: [EventRow, AuditEntry][] = [
      [
        bookEvent,
        {
          action: 'appointment.book',
          entity: 'appointment',
          entityId: booked.id,
          after: { slotId: from, patientId: patient.id, status: 'booked', bookedCount: 1, capacity: 2 },
        },
      ],
      [rescheduleEvent, { action: 'appointment.reschedule', entity: 'appointment', entityId: booked.id, before: { slotId: from }, after: { slotId: to } }],
      [
        cancelEvent,
        {
          action: 'appointment.cancel',
          entity: 'appointment',
          entityId: booked.id,
          before: { status: 'booked' },
          after: { status: 'cancelled', cancelReason: 'feeling better' },
        },
      ],
    ];
    for (const [written, entry] of entries) {
      const orm = await viaOrm(actor, entry);
      expect(written.row, entry.action).toEqual(orm.row);
      expect(written.types, entry.action).toEqual(orm.types);
    }
    expect(bookEvent.types).toEqual({
      id: 'number',
      at: 'string',
      actor_id: 'number',
      action: 'string',
      entity: 'string',
      entity_id: 'string',
      before: 'null',
      after: 'object',
    });
  });

  it("a booking's event carries the booking's one clock: its time is the appointment's creation time", async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const slotId = await seedSlot(db, doctor.id, `${day(11)}T04:00:00Z`);
    const { patient } = await makePatient(db);
    const booked = await bookAppointment(db.ctx(SYSTEM), { slotId, patientId: patient.id });
    const [event] = await db.sql(`select at from audit_event where action = 'appointment.book' and entity_id = $1`, [String(booked.id)]);
    expect(event?.at).toEqual(new Date(booked.createdAt));
  });
});
