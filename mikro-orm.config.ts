// For MikroORM's own tooling (e.g. `npx mikro-orm migration:create` if you install @mikro-orm/cli): the
// same settings ascend uses, against DATABASE_URL. ascend itself builds its config in src/db/orm-config.ts.
import { migrationsList } from './migrations/index.js';
import { ormConfig } from './src/db/orm-config.js';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL: set it to the database MikroORM tooling should use (ascend db url prints the embedded one)');

const base = ormConfig(url);
export default { ...base, migrations: { ...base.migrations, path: './migrations', pathTs: './migrations', migrationsList } };
