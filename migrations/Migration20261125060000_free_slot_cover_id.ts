import { Migration } from '@mikro-orm/migrations';

/**
 * The free-slot search reads every slot column it returns from this index (is_active is its own predicate):
 * with the id in it, the page and the total come from index-only scans, without a heap page per slot.
 */
export class Migration20261125060000_free_slot_cover_id extends Migration {
  override async up(): Promise<void> {
    this.addSql(`drop index if exists slot_free_cover_idx;`);
    this.addSql(
      `create index slot_free_cover_idx on slot (doctor_id, starts_at) include (id, ends_at, clinic_id, capacity, booked_count) where is_active and booked_count < capacity;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists slot_free_cover_idx;`);
    this.addSql(
      `create index slot_free_cover_idx on slot (doctor_id, starts_at) include (ends_at, clinic_id, capacity, booked_count, is_active) where is_active and booked_count < capacity;`,
    );
  }
}
