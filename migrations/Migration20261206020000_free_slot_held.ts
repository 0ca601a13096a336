import { Migration } from '@mikro-orm/migrations';

/**
 * A place held for the waitlist (slot.held_count, Migration20261204010000_waitlist) is not free: the free-slot
 * search's indexes are partial on the places a booking can take, booked_count + held_count < capacity (the
 * booking rule `slot_free`, src/services/booking/rules.ts), and the covering one carries held_count so the
 * search stays index-only. A slot whose last places are held is no longer listed as free (booking it was refused).
 */
const freeSlotIndexes = (free: string, held: boolean) => [
  'drop index if exists slot_free_cover_idx;',
  `create index slot_free_cover_idx on slot (doctor_id, starts_at) include (id, ends_at, clinic_id, capacity, booked_count${held ? ', held_count' : ''}) where is_active and ${free};`,
  'drop index if exists slot_free_starts_idx;',
  `create index slot_free_starts_idx on slot (starts_at) where is_active and ${free};`,
];

export class Migration20261206020000_free_slot_held extends Migration {
  override async up(): Promise<void> {
    for (const sql of freeSlotIndexes('booked_count + held_count < capacity', true)) this.addSql(sql);
  }

  override async down(): Promise<void> {
    for (const sql of freeSlotIndexes('booked_count < capacity', false)) this.addSql(sql);
  }
}
