import { Migration } from '@mikro-orm/migrations';

/**
 * `appointments list --search` (src/services/appointments.ts) looks for each word, folded as names are
 * (ascend_fold: no case, no accents), in the patient's and doctor's names (indexed by
 * Migration20261201011000_name_search) and in the appointment's reason and notes: trigram indexes on those two
 * so that a substring search on a large table does not read every row.
 */
export class Migration20261202020000_appointment_search extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index appointment_reason_folded_trgm_idx on appointment using gin (ascend_fold(reason) gin_trgm_ops);`);
    this.addSql(`create index appointment_notes_folded_trgm_idx on appointment using gin (ascend_fold(notes) gin_trgm_ops);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists appointment_reason_folded_trgm_idx, appointment_notes_folded_trgm_idx;`);
  }
}
