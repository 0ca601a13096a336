// Reminders and mail in the worker (./module.ts): each tick emits the reminders that fell due
// (src/services/reminders.ts) and queues the emails whose retry is due; each dispatched batch of events queues
// the emails they make; `mail.send` sends one (src/services/mail/queue.ts). Mail only when ASCEND_SMTP_URL is
// set in the worker's environment: without it the reminders' events are still emitted (webhooks get them)
// and no email is queued.
import { SYSTEM } from '../domain/roles.js';
import { serviceContext } from '../services/context.js';
import { queueDueRetries, mailStatus, queueMails, SEND_TASK, sendQueuedMail } from '../services/mail/queue.js';
import { type Mailer, type MailConfig, mailConfigFromEnv, openMailer } from '../services/mail/transport.js';
import { reminderStatus, sendDueReminders } from '../services/reminders.js';
import type { WorkerContext, WorkerModule } from './module.js';

/** The module, on the mail settings of `env` (read when first needed, so a bad value fails the job that needs it, naming the variable). */
export function createMailModule(env: NodeJS.ProcessEnv = process.env): WorkerModule {
  let settings: { config: MailConfig; mailer: Mailer } | null | undefined;
  const mail = () => {
    if (settings === undefined) {
      const config = mailConfigFromEnv(env);
      settings = config ? { config, mailer: openMailer(config) } : null;
    }
    return settings;
  };
  const ctxOf = (worker: WorkerContext) => serviceContext(worker.orm.em.fork(), SYSTEM, worker.clock);
  return {
    name: 'mail',
    tasks: {
      [SEND_TASK]: async (payload, worker) => {
        const configured = mail();
        if (!configured) return worker.log(`mail.send: ASCEND_SMTP_URL is not set in this worker; message left pending`);
        const outcome = await sendQueuedMail(ctxOf(worker), payload, configured.mailer, configured.config);
        if (outcome === 'retry' || outcome === 'failed') worker.log(`mail.send: message not sent (${outcome === 'failed' ? 'failed for good' : 'will retry'})`);
      },
    },
    onEvents: async (tx, events) => {
      if (mail()) await queueMails(tx, events);
    },
    onTick: async (worker) => {
      const scan = await sendDueReminders(ctxOf(worker));
      if (scan.taken) worker.log(`reminders: ${scan.emitted} due, ${scan.taken - scan.emitted} skipped (started or no longer booked)`);
      if (mail()) await queueDueRetries(ctxOf(worker));
    },
    status: async (em) => ({ ...(await reminderStatus(em)), ...(await mailStatus(em)) }),
  };
}

export const mailModule = createMailModule();
