import { Migration } from '@mikro-orm/migrations';

/**
 * The free-slot search now picks each doctor's page by slot id and time alone: with the id in the covering
 * index, that is an index-only scan (no heap page per slot). clinic_id and is_active are no longer read
 * from it (the first comes through the doctor, the second is the index's own predicate).
 */
export class Migration20261125060000_free_slot_cover_id extends Migration {
  override async up(): Promise<void> {
    this.addSql(`drop index if exists slot_free_cover_idx;`);
    this.addSql(`create index slot_free_cover_idx on slot (doctor_id, starts_at) include (id, ends_at, capacity, booked_count) where is_active and booked_count < capacity;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists slot_free_cover_idx;`);
    this.addSql(`create index slot_free_cover_idx on slot (doctor_id, starts_at) include (ends_at, clinic_id, capacity, booked_count, is_active) where is_active and booked_count < capacity;`);
  }
}
