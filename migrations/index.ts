// Every migration, in order. Registered statically (not discovered from disk) so the bundled CLI carries them.
import { Migration20261125000000_initial } from './Migration20261125000000_initial.js';

export const migrationsList = [
  { name: 'Migration20261125000000_initial', class: Migration20261125000000_initial },
];
