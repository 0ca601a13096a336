import { Migration } from '@mikro-orm/migrations';

/**
 * The free-slot search reads only bookable slots (active, not full): partial indexes keep it to those rows,
 * by doctor (filters on specialty and city pick the doctors first) and by time (searches without a filter).
 */
export class Migration20261125020000_free_slot_indexes extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index slot_free_idx on slot (doctor_id, starts_at) where is_active and booked_count < capacity;`);
    this.addSql(`create index slot_free_starts_idx on slot (starts_at) where is_active and booked_count < capacity;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists slot_free_idx, slot_free_starts_idx;`);
  }
}
