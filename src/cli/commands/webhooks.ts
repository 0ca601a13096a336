import type { Command } from '@commander-js/extra-typings';
import type { WebhookDeliveryView, WebhookView } from '../../domain/schemas/webhooks.js';
import { act, given } from '../command.js';
import { agreed, counted, declined, idArgument, wholeNumber } from '../input.js';
import { allOption, printListing } from '../listing.js';
import { type Column, formatInstant, printDone, write } from '../output.js';
import { REF_HELP, refId } from '../references.js';
import { withServices } from '../session.js';

const webhookFlags = { url: '--url', events: '--events', clinicId: '--clinic' };

const webhookColumns: Column<WebhookView>[] = [
  { header: 'ID', value: (w) => w.id },
  { header: 'URL', value: (w) => w.url },
  { header: 'Events', value: (w) => (w.events ? w.events.join(', ') : 'all') },
  { header: 'Clinic', value: (w) => w.clinicId ?? 'all' },
  { header: 'Active', value: (w) => (w.active ? 'yes' : `no: ${w.disabledReason ?? ''}`) },
  { header: 'Failing since', value: (w) => formatInstant(w.failingSince) },
  { header: 'Pending', value: (w) => w.pendingDeliveries },
];

const deliveryColumns: Column<WebhookDeliveryView>[] = [
  { header: 'ID', value: (d) => d.id },
  { header: 'Event', value: (d) => d.eventId },
  { header: 'Type', value: (d) => d.eventType },
  { header: 'Status', value: (d) => d.status },
  { header: 'Attempts', value: (d) => d.attempts },
  { header: 'Next attempt', value: (d) => formatInstant(d.nextAttemptAt) },
  { header: 'Last answer', value: (d) => d.lastError ?? d.lastStatus },
  { header: 'Created', value: (d) => formatInstant(d.createdAt) },
];

/** `--events a,b`: the names as typed (the service judges them, with a suggestion for a slip). */
const eventList = (value: string): string[] =>
  value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

export function registerWebhooks(program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description('webhooks (admins): signed HTTP POSTs to other systems when appointments change; `ascend worker` sends them');

  webhooks
    .command('create')
    .description('add an endpoint; prints its id and its signing secret (whsec_…), shown this once')
    .requiredOption('--url <url>', 'where to POST: an http(s) URL (no credentials; private addresses need ASCEND_WEBHOOKS_ALLOW_PRIVATE=true)')
    .option('--events <types>', 'only these event types, comma-separated (default: all), e.g. appointment.booked,appointment.cancelled', eventList)
    .option('--clinic <clinic>', `only this clinic's events (default: every clinic's): ${REF_HELP.clinic}`)
    .action(
      act(async (ctx, opts) => {
        const { createWebhook } = await import('../../services/webhooks/endpoints.js');
        const hook = await withServices(async (services) =>
          createWebhook(services, { url: opts.url, ...given({ events: opts.events, clinicId: await refId(services, 'clinic', opts.clinic, '--clinic') }) }),
        );
        const scope = `${hook.events ? hook.events.join(', ') : 'every event'}${hook.clinicId ? ` of clinic ${hook.clinicId}` : ''}`;
        printDone(ctx, `Created webhook ${hook.id}: ${hook.url} (${scope})`, hook);
        // The one time the secret is shown: on a line of its own, for the receiver's configuration.
        if (!ctx.json) write(`Signing secret (shown this once): ${hook.secret}\n`);
      }, webhookFlags),
    );

  webhooks
    .command('list')
    .description('list the endpoints (disabled ones too); secrets are never shown again')
    .option('--limit <n>', 'at most this many (1–1000)', wholeNumber(1, 1000), 50)
    .option('--offset <n>', 'skip this many', wholeNumber(0), 0)
    .addOption(allOption())
    .action(
      act(async (ctx, opts) => {
        const { listWebhooks } = await import('../../services/webhooks/endpoints.js');
        await printListing(ctx, opts, (services, page) => listWebhooks(services, page), webhookColumns, 'webhooks');
      }),
    );

  webhooks
    .command('delete')
    .description('delete an endpoint: nothing more is sent to it, its pending deliveries are dropped; asks first on a terminal')
    .argument('<id>', 'the webhook id (ascend webhooks list shows them)', idArgument('ID'))
    .option('--yes', 'do not ask (on a terminal) before deleting')
    .action(
      act(async (ctx, opts, id: number) => {
        const { deleteWebhook, getWebhook } = await import('../../services/webhooks/endpoints.js');
        const deleted = await withServices(async (services) => {
          const go = await agreed(opts.yes, async () => {
            const hook = await getWebhook(services, id);
            return `Delete webhook ${hook.id} (${hook.url})? ${counted(hook.pendingDeliveries, 'pending delivery', 'pending deliveries')} will be dropped.`;
          });
          return go ? deleteWebhook(services, id) : null;
        });
        if (!deleted) return declined(`Webhook ${id} not deleted`);
        printDone(
          ctx,
          `Deleted webhook ${deleted.id} (${deleted.url}); dropped ${counted(deleted.droppedDeliveries, 'pending delivery', 'pending deliveries')}`,
          deleted,
        );
      }),
    );

  webhooks
    .command('test')
    .description('send a webhook.test event to this endpoint only (a running worker delivers it)')
    .argument('<id>', 'the webhook id', idArgument('ID'))
    .action(
      act(async (ctx, _opts, id: number) => {
        const { testWebhook } = await import('../../services/webhooks/endpoints.js');
        const sent = await withServices((services) => testWebhook(services, id));
        printDone(
          ctx,
          `Queued webhook.test event ${sent.eventId} for webhook ${id} (delivery ${sent.delivery.id}); ascend webhooks deliveries ${id} shows how it went`,
          sent,
        );
      }),
    );

  webhooks
    .command('deliveries')
    .description('an endpoint’s deliveries, newest first: status, attempts, the last answer')
    .argument('<id>', 'the webhook id', idArgument('ID'))
    .option('--failed', 'only those whose retries ran out (ascend webhooks redeliver sends one again)')
    .option('--limit <n>', 'at most this many (1–1000)', wholeNumber(1, 1000), 50)
    .option('--offset <n>', 'skip this many', wholeNumber(0), 0)
    .addOption(allOption())
    .action(
      act(async (ctx, opts, id: number) => {
        const { listDeliveries } = await import('../../services/webhooks/endpoints.js');
        await printListing(
          ctx,
          opts,
          (services, page) => listDeliveries(services, id, { failed: Boolean(opts.failed), ...page }),
          deliveryColumns,
          'deliveries',
        );
      }),
    );

  webhooks
    .command('redeliver')
    .description('send a delivery again, with the same webhook-id (a failed one, or one the receiver lost)')
    .argument('<delivery-id>', 'the delivery id (ascend webhooks deliveries shows them)', idArgument('DELIVERY_ID'))
    .action(
      act(async (ctx, _opts, id: number) => {
        const { redeliver } = await import('../../services/webhooks/endpoints.js');
        const delivery = await withServices((services) => redeliver(services, id));
        printDone(ctx, `Delivery ${delivery.id} (event ${delivery.eventId}) is pending again for webhook ${delivery.endpointId}`, delivery);
      }),
    );
}
