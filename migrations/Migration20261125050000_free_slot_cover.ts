import { Migration } from '@mikro-orm/migrations';

/**
 * The free-slot search reads a doctor's bookable slots in time order: a covering partial index lets it do
 * so from the index alone (index-only scans once autovacuum has marked the pages all-visible), without
 * visiting a heap page per slot.
 */
export class Migration20261125050000_free_slot_cover extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create index slot_free_cover_idx on slot (doctor_id, starts_at) include (ends_at, clinic_id, capacity, booked_count, is_active) where is_active and booked_count < capacity;`,
    );
    this.addSql(`drop index if exists slot_free_idx;`);
  }

  override async down(): Promise<void> {
    this.addSql(`create index slot_free_idx on slot (doctor_id, starts_at) where is_active and booked_count < capacity;`);
    this.addSql(`drop index if exists slot_free_cover_idx;`);
  }
}
