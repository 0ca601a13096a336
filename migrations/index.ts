// Every migration, in order. Registered statically (not discovered from disk) so the bundled CLI carries them.
// Add a new one at the end, and update LATEST_MIGRATION in src/db/schema-version.ts (a test checks it).
import { Migration20261125000000_initial } from './Migration20261125000000_initial.js';
import { Migration20261125010000_search_indexes } from './Migration20261125010000_search_indexes.js';
import { Migration20261125020000_free_slot_indexes } from './Migration20261125020000_free_slot_indexes.js';
import { Migration20261125030000_doctor_day_limit } from './Migration20261125030000_doctor_day_limit.js';
import { Migration20261125040000_http } from './Migration20261125040000_http.js';
import { Migration20261125050000_free_slot_cover } from './Migration20261125050000_free_slot_cover.js';
import { Migration20261125060000_free_slot_cover_id } from './Migration20261125060000_free_slot_cover_id.js';
import { Migration20261125070000_auth_notify } from './Migration20261125070000_auth_notify.js';
import { Migration20261130010000_login_address } from './Migration20261130010000_login_address.js';
import { Migration20261201010000_patient_for_every_patient_user } from './Migration20261201010000_patient_for_every_patient_user.js';
import { Migration20261201011000_name_search } from './Migration20261201011000_name_search.js';
import { Migration20261201020000_sessions } from './Migration20261201020000_sessions.js';
import { Migration20261202010000_profile } from './Migration20261202010000_profile.js';
import { Migration20261202020000_appointment_search } from './Migration20261202020000_appointment_search.js';
import { Migration20261202030000_visit_slots } from './Migration20261202030000_visit_slots.js';
import { Migration20261202040000_idempotency } from './Migration20261202040000_idempotency.js';
import { Migration20261203010000_outbox } from './Migration20261203010000_outbox.js';
import { Migration20261203020000_webhooks } from './Migration20261203020000_webhooks.js';
import { Migration20261203030000_reminders_mail } from './Migration20261203030000_reminders_mail.js';
import { Migration20261203040000_webhook_claim_order } from './Migration20261203040000_webhook_claim_order.js';
import { Migration20261203050000_appointment_json_cached } from './Migration20261203050000_appointment_json_cached.js';
import { Migration20261203060000_outbox_cost } from './Migration20261203060000_outbox_cost.js';
import { Migration20261203070000_one_waiting_dispatch } from './Migration20261203070000_one_waiting_dispatch.js';
import { Migration20261203080000_booked_event } from './Migration20261203080000_booked_event.js';

export const migrationsList = [
  { name: 'Migration20261125000000_initial', class: Migration20261125000000_initial },
  { name: 'Migration20261125010000_search_indexes', class: Migration20261125010000_search_indexes },
  { name: 'Migration20261125020000_free_slot_indexes', class: Migration20261125020000_free_slot_indexes },
  { name: 'Migration20261125030000_doctor_day_limit', class: Migration20261125030000_doctor_day_limit },
  { name: 'Migration20261125040000_http', class: Migration20261125040000_http },
  { name: 'Migration20261125050000_free_slot_cover', class: Migration20261125050000_free_slot_cover },
  { name: 'Migration20261125060000_free_slot_cover_id', class: Migration20261125060000_free_slot_cover_id },
  { name: 'Migration20261125070000_auth_notify', class: Migration20261125070000_auth_notify },
  { name: 'Migration20261130010000_login_address', class: Migration20261130010000_login_address },
  { name: 'Migration20261201010000_patient_for_every_patient_user', class: Migration20261201010000_patient_for_every_patient_user },
  { name: 'Migration20261201011000_name_search', class: Migration20261201011000_name_search },
  { name: 'Migration20261201020000_sessions', class: Migration20261201020000_sessions },
  { name: 'Migration20261202010000_profile', class: Migration20261202010000_profile },
  { name: 'Migration20261202020000_appointment_search', class: Migration20261202020000_appointment_search },
  { name: 'Migration20261202030000_visit_slots', class: Migration20261202030000_visit_slots },
  { name: 'Migration20261202040000_idempotency', class: Migration20261202040000_idempotency },
  { name: 'Migration20261203010000_outbox', class: Migration20261203010000_outbox },
  { name: 'Migration20261203020000_webhooks', class: Migration20261203020000_webhooks },
  { name: 'Migration20261203030000_reminders_mail', class: Migration20261203030000_reminders_mail },
  { name: 'Migration20261203040000_webhook_claim_order', class: Migration20261203040000_webhook_claim_order },
  { name: 'Migration20261203050000_appointment_json_cached', class: Migration20261203050000_appointment_json_cached },
  { name: 'Migration20261203060000_outbox_cost', class: Migration20261203060000_outbox_cost },
  { name: 'Migration20261203070000_one_waiting_dispatch', class: Migration20261203070000_one_waiting_dispatch },
  { name: 'Migration20261203080000_booked_event', class: Migration20261203080000_booked_event },
];
