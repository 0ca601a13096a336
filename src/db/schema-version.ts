// The name of the newest migration, known without loading the migrations (and the ORM) so that the fast path
// of every command can tell whether the embedded database needs migrating. A test checks it against
// migrations/index.ts.
export const LATEST_MIGRATION = 'Migration20261203030000_reminders_mail';
