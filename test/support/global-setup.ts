// Once per test run: a PostgreSQL server (DATABASE_URL's, or a fresh embedded one in a temporary directory)
// and a migrated template database that every test file clones into its own database.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import pg from 'pg';
import { ensureEmbeddedServer, stopEmbeddedServer } from '../../src/db/embedded.js';
import { migrateUrl } from '../../src/db/migrator.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL of the test server, any database. */
    pgServerUrl: string;
    /** The migrated template that test databases are created from. */
    pgTemplate: string;
    /** A directory for this run's scratch files (CLI config homes …), removed when the run ends. */
    testTmp: string;
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export default async function setup(project: TestProject) {
  let serverUrl: string;
  let stop: () => Promise<void> = async () => {};
  if (process.env.DATABASE_URL) {
    serverUrl = process.env.DATABASE_URL;
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'ascend-test-pg-'));
    chmodSync(dir, 0o755); // as root, PostgreSQL runs as `postgres`, which must enter this directory
    const choice = { dir, why: 'test run' };
    // Durability is not under test; speed is welcome.
    const server = await ensureEmbeddedServer({
      dataDir: choice,
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
    });
    serverUrl = server.url;
    stop = async () => {
      await stopEmbeddedServer(choice);
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const template = `ascend_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  await admin.query(`drop database if exists ${template}`);
  await admin.query(`create database ${template}`);
  await migrateUrl(withDatabase(serverUrl, template));
  await admin.end();

  const testTmp = mkdtempSync(join(tmpdir(), 'ascend-test-run-'));
  chmodSync(testTmp, 0o755);
  project.provide('testTmp', testTmp);
  project.provide('pgServerUrl', withDatabase(serverUrl, 'postgres'));
  project.provide('pgTemplate', template);

  return async () => {
    const client = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
    await client.connect();
    await client.query(`drop database if exists ${template} with (force)`).catch(() => undefined);
    await client.end();
    await stop();
    rmSync(testTmp, { recursive: true, force: true });
  };
}
