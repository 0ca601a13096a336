// `npm run bench`: every speed figure of ascend beside its baseline, measured in this one run on this machine.
// Pick sections by name: `npm run bench -- startup slots`.
import { cpus } from 'node:os';
import { benchAppointments } from './appointments.js';
import { benchBackup } from './backup.js';
import { benchHttp } from './http.js';
import { benchOutbox } from './outbox.js';
import { benchPooler } from './pooler.js';
import { benchReminders } from './reminders.js';
import { benchSeries } from './series.js';
import { benchSlots } from './slots.js';
import { benchStartup } from './startup.js';
import { startBenchServer, type BenchServer, type Row } from './support.js';
import { benchWaitlist } from './waitlist.js';
import { benchWebhooks } from './webhooks.js';

const sections: Record<string, (server: BenchServer) => Promise<Row[]>> = {
  startup: benchStartup,
  slots: benchSlots,
  appointments: benchAppointments,
  outbox: benchOutbox,
  webhooks: benchWebhooks,
  http: benchHttp,
  reminders: benchReminders,
  pooler: benchPooler,
  waitlist: benchWaitlist,
  series: benchSeries,
  backup: benchBackup,
};

const wanted = process.argv.slice(2);
const chosen = wanted.length ? wanted : Object.keys(sections);
for (const name of chosen) if (!sections[name]) throw new Error(`unknown bench section ${name}; known: ${Object.keys(sections).join(', ')}`);

console.log(`ascend bench — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString()}`);
const server = await startBenchServer();
const missed: string[] = [];
try {
  for (const name of chosen) {
    const rows = await sections[name]!(server);
    missed.push(...rows.filter((r) => !r.ok).map((r) => r.figure));
  }
} finally {
  await server.stop();
}
console.log(missed.length ? `\nMissed targets: ${missed.join('; ')}` : '\nAll targets met.');
