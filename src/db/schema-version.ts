// The name of the newest migration, known without loading the migrations (and the ORM) so that the fast path
// of every command can tell whether the embedded database needs migrating. A test checks it against
// migrations/index.ts.
export const LATEST_MIGRATION = 'Migration20261206020000_free_slot_held';

/**
 * The schema graphile-worker keeps its jobs in (installed by src/db/migrator.ts after ascend's migrations). It is
 * the library's, not ascend's: the ORM's schema tools leave it alone (src/db/orm-config.ts).
 */
export const QUEUE_SCHEMA = 'graphile_worker';
