// A worker process for tests that kill one: the real runtime (src/worker/runner.ts) with every module, on the
// database DATABASE_URL and the clock ASCEND_NOW, as a child process of its own (node --import tsx). It says
// `ready` on stdout once it runs; SIGTERM stops it as `ascend worker` does (jobs in hand finish, exit 0).
import { openOrm } from '../../src/db/orm.js';
import { clockFromEnv } from '../../src/domain/clock.js';
import { workerModules } from '../../src/worker/modules.js';
import { startWorker } from '../../src/worker/runner.js';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('worker-process: DATABASE_URL is not set');
const orm = await openOrm(url);
const worker = await startWorker({ url, orm, clock: clockFromEnv(), concurrency: 2, log: (line) => process.stderr.write(`${line}\n`), modules: workerModules });
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void worker
    .stop()
    .then(() => orm.close())
    .then(() => process.exit(0));
});
