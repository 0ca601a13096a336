// Every module the worker runs (./module.ts), in the order their onEvents see a batch.
import type { WorkerModule } from './module.js';
import { mailModule } from './mail.js';
import { outboxModule } from './outbox.js';
import { waitlistModule } from './waitlist.js';
import { webhooksModule } from './webhooks.js';

export const workerModules: WorkerModule[] = [outboxModule, webhooksModule, mailModule, waitlistModule];
