// Which database a command talks to: DATABASE_URL when set, otherwise the embedded server, started and
// migrated on first use.
import { DatabaseUnavailableError } from '../domain/errors.js';
import { chooseDataDir } from './data-dir.js';
import { ensureEmbeddedServer, withStartLock, writeState } from './embedded.js';
import { type ConnectionRoutes, connectionRoutes } from './pooler.js';
import { LATEST_MIGRATION } from './schema-version.js';

/** The database, and which URL each purpose uses (./pooler.ts: DATABASE_DIRECT_URL beside a pooler). */
export interface DatabaseTarget extends ConnectionRoutes {
  embedded: boolean;
}

export function externalDatabaseUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = env.DATABASE_URL?.trim();
  if (!url) return undefined;
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new DatabaseUnavailableError('DATABASE_URL: must be a postgres:// or postgresql:// URL', 'DATABASE_URL');
  }
  return url;
}

/**
 * Resolves the database for a command. The embedded database is migrated automatically (under the start
 * lock, so concurrent first commands migrate once); an external one is migrated only by `ascend db migrate`
 * or `ascend init`, since it may be shared with other deployments.
 */
export async function resolveDatabase(options: { migrate?: boolean } = {}): Promise<DatabaseTarget> {
  const external = externalDatabaseUrl();
  if (external) return { ...connectionRoutes(external, true), embedded: false };
  // Refuses pooler settings without DATABASE_URL before the embedded server is started for nothing.
  connectionRoutes('', false);
  const server = await ensureEmbeddedServer();
  if (options.migrate !== false && server.state.schema !== LATEST_MIGRATION) {
    await withStartLock(server.dataDir, async () => {
      const { readFileSync } = await import('node:fs');
      const fresh = JSON.parse(readFileSync(`${server.dataDir}/server.json`, 'utf8'));
      if (fresh.schema === LATEST_MIGRATION) return;
      const { migrateUrl } = await import('./migrator.js');
      await migrateUrl(server.url);
      writeState(server.dataDir, { ...fresh, schema: LATEST_MIGRATION });
    });
  }
  return { ...connectionRoutes(server.url, false), embedded: true };
}

export { chooseDataDir };
