import type { Command } from '@commander-js/extra-typings';
import chalk from 'chalk';
import { ConflictError, ValidationError } from '../../domain/errors.js';
import { act } from '../command.js';
import { confirmOrFlag } from '../input.js';
import { printDone, printJson } from '../output.js';

const masked = (url: string | null) => url?.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@') ?? null;

async function loadDb() {
  const [database, embedded, migrator, dataDir, schema] = await Promise.all([
    import('../../db/database.js'),
    import('../../db/embedded.js'),
    import('../../db/migrator.js'),
    import('../../db/data-dir.js'),
    import('../../db/schema-version.js'),
  ]);
  return { ...database, ...embedded, ...migrator, ...dataDir, ...schema };
}

/** What backup, restore and verify need: finding the database, not the ORM or the migrator (start-up time). */
async function loadTarget() {
  const [database, embedded, schema] = await Promise.all([
    import('../../db/database.js'),
    import('../../db/embedded.js'),
    import('../../db/schema-version.js'),
  ]);
  return { ...database, ...embedded, ...schema };
}

/** Opens the ORM on a URL just long enough to run `fn`. */
async function withOrm<T>(url: string, fn: (orm: import('@mikro-orm/postgresql').MikroORM) => Promise<T>): Promise<T> {
  const { openOrm } = await import('../../db/orm.js');
  const orm = await openOrm(url, { pool: { min: 0, max: 1 } });
  try {
    return await fn(orm);
  } finally {
    await orm.close(true);
  }
}

/** DATABASE_REPLICA_URL's lag, or null without one; bytes of WAL only when the primary answers (`primaryUrl`). */
async function replicaStatus(primaryUrl: string | null): Promise<import('../../db/replica.js').ReplicaStatus | null> {
  const { replicaSettings, ReadReplica } = await import('../../db/replica.js');
  const settings = replicaSettings();
  if (!settings) return null;
  const replica = new ReadReplica(settings, () => {});
  try {
    return primaryUrl ? await withOrm(primaryUrl, (orm) => replica.status(orm.em.fork())) : await replica.status(undefined);
  } finally {
    await replica.close();
  }
}

function describeReplica(r: import('../../db/replica.js').ReplicaStatus): string {
  if (r.state === 'unreachable') return chalk.yellow(`unreachable (${r.error}): reads go to the primary`);
  if (r.state === 'not a standby') return 'not a standby (reads from it are as fresh as its own data)';
  const bytes = r.lagBytes === null ? 'unknown bytes' : `${r.lagBytes} bytes`;
  const behind = `${bytes} and ${r.lagSeconds?.toFixed(1)} s behind`;
  return r.state === 'behind'
    ? chalk.yellow(`${behind}: more than ASCEND_REPLICA_MAX_LAG (${r.maxLagSeconds} s), reads go to the primary`)
    : `${chalk.green('streaming')}, ${behind}`;
}

const formatBytes = (n: number): string =>
  n < 1024
    ? `${n} B`
    : n < 1024 ** 2
      ? `${(n / 1024).toFixed(1)} KiB`
      : n < 1024 ** 3
        ? `${(n / 1024 ** 2).toFixed(1)} MiB`
        : `${(n / 1024 ** 3).toFixed(2)} GiB`;

/**
 * Runs `work` with a signal that Ctrl-C (or SIGTERM) aborts, so that it can remove what it half-wrote; then the
 * process dies of that signal as any interrupted command does (src/cli/main.ts).
 */
async function withInterruptCleanup<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  let received: NodeJS.Signals | undefined;
  const on = (signal: NodeJS.Signals) => () => {
    received = signal;
    abort.abort(new Error(`interrupted by ${signal}`));
  };
  const onInt = on('SIGINT');
  const onTerm = on('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    return await work(abort.signal);
  } catch (err) {
    if (received) {
      process.removeListener('SIGINT', onInt);
      process.removeListener('SIGTERM', onTerm);
      process.kill(process.pid, received);
      // The signal arrives asynchronously; until then, nothing more happens here.
      await new Promise(() => {});
    }
    throw err;
  } finally {
    process.removeListener('SIGINT', onInt);
    process.removeListener('SIGTERM', onTerm);
  }
}

function refuseWhenExternal(external: string | undefined, what: string): void {
  if (external) throw new ValidationError(`is set, and ascend does not ${what} that server`, 'DATABASE_URL');
}

export function registerDb(program: Command): void {
  const db = program.command('db').description('the database: migrations, and the embedded PostgreSQL server');

  db.command('migrate')
    .description('apply pending migrations')
    .action(
      act(async (ctx) => {
        const d = await loadDb();
        const target = await d.resolveDatabase({ migrate: false });
        // DDL and the queue's migration locks bypass a pooler (DATABASE_DIRECT_URL when set: src/db/pooler.ts).
        const applied = await withOrm(target.migrationUrl, (orm) => d.migrate(orm));
        if (target.embedded) {
          const server = await d.ensureEmbeddedServer();
          d.writeState(server.dataDir, { ...server.state, schema: d.LATEST_MIGRATION });
        }
        printDone(ctx, applied.length ? `Applied ${applied.length} migration(s): ${applied.join(', ')}` : 'The schema is up to date', { applied });
      }),
    );

  db.command('status')
    .description('where the database is, whether it runs, and which migrations are applied')
    .action(
      act(async (ctx) => {
        const d = await loadDb();
        const external = d.externalDatabaseUrl();
        let status: Record<string, unknown>;
        let url: string | null;
        if (external) {
          url = external;
          status = { embedded: false, url: masked(external), dataDir: null };
        } else {
          const s = d.embeddedStatus();
          url = s.running ? s.url : null;
          status = {
            embedded: true,
            url: masked(s.url),
            dataDir: s.dataDir,
            dataDirReason: s.dataDirWhy,
            initialised: s.initialised,
            port: s.port,
            pid: s.pid,
            log: s.log,
          };
        }
        let migrations: { applied: string[]; pending: string[] } | null = null;
        let running = false;
        let error: string | undefined;
        if (url) {
          try {
            migrations = await withOrm(url, (orm) => d.migrationStatus(orm));
            running = true;
          } catch (err) {
            error = (err as Error).message.split('\n')[0];
          }
        }
        const replica = await replicaStatus(running ? url : null);
        const result: Record<string, unknown> = { running, ...status, migrations, ...(error ? { error } : {}), ...(replica ? { replica } : {}) };
        if (ctx.json) return printJson(result);
        const lines = [
          `${chalk.bold('Database')}    ${external ? 'DATABASE_URL' : 'embedded PostgreSQL'} — ${running ? chalk.green('running') : chalk.yellow('not running')}`,
          `${chalk.bold('URL')}         ${result.url ?? '(not initialised yet: any command starts it)'}`,
        ];
        if (!external) lines.push(`${chalk.bold('Data dir')}    ${status.dataDir} (${status.dataDirReason})`, `${chalk.bold('Log')}         ${status.log}`);
        if (migrations)
          lines.push(
            `${chalk.bold('Migrations')}  ${migrations.applied.length} applied, ${migrations.pending.length} pending${migrations.pending.length ? `: ${migrations.pending.join(', ')}` : ''}`,
          );
        if (error) lines.push(`${chalk.bold('Error')}       ${error}`);
        if (replica) lines.push(`${chalk.bold('Replica')}     ${replica.url} — ${describeReplica(replica)}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
    );

  db.command('start')
    .description('start the embedded PostgreSQL (any command does this on first use) and migrate it')
    .action(
      act(async (ctx) => {
        const d = await loadDb();
        refuseWhenExternal(d.externalDatabaseUrl(), 'start');
        await d.resolveDatabase();
        const s = d.embeddedStatus();
        printDone(ctx, `Embedded PostgreSQL running on 127.0.0.1:${s.port} (data in ${s.dataDir})`, {
          running: true,
          port: s.port,
          dataDir: s.dataDir,
          url: masked(s.url),
        });
      }),
    );

  db.command('stop')
    .description('stop the embedded PostgreSQL (the next command starts it again)')
    .action(
      act(async (ctx) => {
        const d = await loadDb();
        refuseWhenExternal(d.externalDatabaseUrl(), 'stop');
        const stopped = await d.stopEmbeddedServer();
        printDone(ctx, stopped ? 'Embedded PostgreSQL stopped' : 'Embedded PostgreSQL was not running', { stopped });
      }),
    );

  db.command('url')
    .description('print the connection URL with its password (for psql and other tools)')
    .action(
      act(async (ctx) => {
        const d = await loadDb();
        const { url } = await d.resolveDatabase();
        if (ctx.json) printJson({ url });
        else process.stdout.write(`${url}\n`);
      }),
    );

  db.command('backup')
    .description('write a consistent backup of the database, online (one snapshot, COPY, gzip) to FILE, or - for stdout')
    .argument('<FILE>', 'the backup file to write (written whole or not at all), or - for stdout')
    .action(
      act(async (ctx, _opts, file) => {
        if (file === '-' && process.stdout.isTTY) throw new ValidationError('stdout is a terminal; redirect to a file or give FILE');
        const d = await loadTarget();
        const { url } = await d.resolveDatabase();
        const { takeBackup } = await import('../../services/backup.js');
        const result = await withInterruptCleanup((signal) => takeBackup(url, file === '-' ? null : file, { out: process.stdout, signal }));
        const line = `Backup of ${result.rows} rows in ${result.tables} tables (at ${result.migration}, taken ${result.takenAt}): ${formatBytes(result.bytes)} in ${(result.ms / 1000).toFixed(1)} s${result.file ? ` to ${result.file}` : ''}`;
        // stdout may be the backup itself: the figures then go to stderr, as JSON with --json.
        if (ctx.json && result.file) printJson(result);
        else if (ctx.json) process.stderr.write(`${JSON.stringify(result)}\n`);
        else process.stderr.write(`${line}\n`);
      }),
    );

  db.command('restore')
    .description('restore a backup into an empty database (a new data dir, or an empty DATABASE_URL database), migrate it forward and verify it')
    .argument('<FILE>', 'the backup file, or - for stdin')
    .action(
      act(async (ctx, _opts, file) => {
        const { openBackupInput, restoreBackup } = await import('../../services/backup-restore.js');
        const input = openBackupInput(file);
        const d = await loadTarget();
        const target = await d.resolveDatabase({ migrate: false });
        const result = await restoreBackup(target.url, input);
        if (target.embedded) {
          const server = await d.ensureEmbeddedServer();
          d.writeState(server.dataDir, { ...server.state, schema: d.LATEST_MIGRATION });
        }
        if (!result.verify.ok) {
          const { violationsLine } = await import('../../services/verify.js');
          if (ctx.json) printJson(result);
          throw new ConflictError(`restored, but ${violationsLine(result.verify)}`);
        }
        const forward = result.migratedForward.length ? `, migrated forward by ${result.migratedForward.length} migration(s)` : '';
        printDone(
          ctx,
          `Restored ${result.rows} rows in ${result.tables} tables (taken ${result.takenAt} at ${result.migration})${forward} in ${(result.ms / 1000).toFixed(1)} s; all ${result.verify.invariants.length} invariants hold`,
          result,
        );
      }),
    );

  db.command('verify')
    .description(
      'check every invariant the schema keeps (counts, capacity, overlaps, daily maximum, audit log, outbox, migrations); exit 4 listing what is wrong',
    )
    .action(
      act(async (ctx) => {
        const d = await loadTarget();
        const { url } = await d.resolveDatabase();
        const { verifyDatabase, violationsLine } = await import('../../services/verify.js');
        const report = await verifyDatabase(url);
        if (ctx.json) printJson(report);
        if (!report.ok) throw new ConflictError(violationsLine(report));
        if (!ctx.json) printDone(ctx, `All ${report.invariants.length} invariants hold (${report.ms} ms)`);
      }),
    );

  db.command('reset')
    .description('DELETE every record: drop the schema and migrate again (needs --yes)')
    .option('--yes', 'confirm that every record is to be deleted')
    .action(
      act(async (ctx, opts) => {
        await confirmOrFlag(opts.yes, '--yes', 'reset deletes every record in the database');
        const d = await loadDb();
        const target = await d.resolveDatabase({ migrate: false });
        const applied = await withOrm(target.migrationUrl, (orm) => d.resetSchema(orm));
        if (target.embedded) {
          const server = await d.ensureEmbeddedServer();
          d.writeState(server.dataDir, { ...server.state, schema: d.LATEST_MIGRATION });
        }
        printDone(ctx, `Database reset: every record deleted, ${applied.length} migration(s) applied. Run ascend init next.`, { reset: true, applied });
      }),
    );
}
