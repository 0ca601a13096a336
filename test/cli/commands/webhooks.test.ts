// `ascend webhooks …` as a child process: admins create (the secret printed once), list, test, read
// deliveries, redeliver and delete; others are refused (exit 6); a private address without
// ASCEND_WEBHOOKS_ALLOW_PRIVATE is a usage error (exit 2) naming --url.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cli, cliFor, initAdmin, loginAs, ok, refused } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { makeClinic, makeUser, PASSWORD } from '../../support/fixtures.js';
import { KEY, terminal, words } from '../../support/terminal.js';
import { type Receiver, startReceiver } from '../../support/webhook-receiver.js';

const ALLOW = { ASCEND_WEBHOOKS_ALLOW_PRIVATE: 'true' };

let db: TestDatabase;
let admin: Cli;
let hooks: Receiver;
beforeAll(async () => {
  db = await createTestDatabase();
  admin = await initAdmin(db.url);
  hooks = await startReceiver();
});
afterAll(async () => {
  await hooks.close();
  await db.drop();
});

describe('ascend webhooks', () => {
  it('create prints the id and the secret once; list shows the endpoint without it', async () => {
    const clinic = await makeClinic(db, { name: 'Hook Clinic' });
    const created = await admin.run(
      ['webhooks', 'create', '--url', hooks.url, '--events', 'appointment.booked, appointment.cancelled', '--clinic', 'Hook Clinic'],
      { env: ALLOW },
    );
    expect(created.code, created.stderr).toBe(0);
    const [, id, secret] = /^✓ Created webhook (\d+): .*\nSigning secret \(shown this once\): (whsec_\S+)\n$/.exec(created.stdout) ?? [];
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(created.stdout).toContain(`(appointment.booked, appointment.cancelled of clinic ${clinic.id})`);
    const list = await admin.run(['webhooks', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(hooks.url);
    expect(list.stdout).not.toContain(String(secret));
    const json = await ok(admin, ['webhooks', 'list']);
    expect(json.items.find((w: { id: number }) => w.id === Number(id))).toMatchObject({
      clinicId: clinic.id,
      events: ['appointment.booked', 'appointment.cancelled'],
    });
    expect(JSON.stringify(json)).not.toContain(String(secret));
  });

  it('test, then ascend worker --once delivers it; deliveries, redeliver and delete --yes, with --json; worker status counts deliveries', async () => {
    const hook = await ok(admin, ['webhooks', 'create', '--url', hooks.url], { env: ALLOW });
    expect(hook.secret).toMatch(/^whsec_/);
    const sent = await ok(admin, ['webhooks', 'test', String(hook.id)]);
    expect(sent).toMatchObject({ endpointId: hook.id, delivery: { eventType: 'webhook.test', status: 'pending' } });
    expect((await ok(admin, ['worker', 'status'])).modules.webhooks).toMatchObject({ pendingDeliveries: 1, failedDeliveries: 0 });
    const worker = await admin.run(['worker', '--once'], { env: ALLOW });
    expect(worker.code, worker.stderr).toBe(0);
    expect(hooks.received.map((r) => r.headers['webhook-id'])).toEqual([sent.eventId]);
    const table = await admin.run(['webhooks', 'deliveries', String(hook.id)]);
    expect(table.stdout).toMatch(new RegExp(`${sent.delivery.id}\\s.*webhook\\.test\\s+delivered\\s+1\\s`));
    expect((await ok(admin, ['webhooks', 'deliveries', String(hook.id), '--failed'])).items).toEqual([]);
    const again = await ok(admin, ['webhooks', 'redeliver', String(sent.delivery.id)]);
    expect(again).toMatchObject({ id: sent.delivery.id, status: 'pending', eventId: sent.eventId });
    const deleted = await admin.run(['webhooks', 'delete', String(hook.id), '--yes']);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toBe(`✓ Deleted webhook ${hook.id} (${hooks.url}); dropped 1 pending delivery\n`);
    refused(await admin.run(['webhooks', 'deliveries', String(hook.id)]), 3, `webhook ${hook.id} not found`);
  });

  it('delete asks on a terminal, saying how many pending deliveries go; N changes nothing, y deletes', async () => {
    const hook = await ok(admin, ['webhooks', 'create', '--url', hooks.url], { env: ALLOW });
    await ok(admin, ['webhooks', 'test', String(hook.id)]);
    const env = { DATABASE_URL: db.url, XDG_CONFIG_HOME: admin.configHome };
    const question = `Delete webhook ${hook.id} (${hooks.url})? 1 pending delivery will be dropped.`;
    for (const [key, left] of [
      ['n', 1],
      ['y', 0],
    ] as const) {
      const t = terminal(['webhooks', 'delete', String(hook.id)], env);
      await t.waitFor(question);
      t.type(`${key}${KEY.enter}`);
      const { code, screen } = await t.done();
      expect(code).toBe(0);
      if (key === 'n') expect(words(screen)).toContain(`Webhook ${hook.id} not deleted: nothing changed.`);
      expect((await ok(admin, ['webhooks', 'list'])).items.filter((w: { id: number }) => w.id === hook.id)).toHaveLength(left);
    }
  });

  it('a private address without ASCEND_WEBHOOKS_ALLOW_PRIVATE=true is exit 2, one line naming --url', async () => {
    refused(
      await admin.run(['webhooks', 'create', '--url', 'http://127.0.0.1:8080/hook'], { env: { ASCEND_WEBHOOKS_ALLOW_PRIVATE: undefined } }),
      2,
      '--url: 127.0.0.1 is a loopback, private or reserved address: webhooks may not reach it (ASCEND_WEBHOOKS_ALLOW_PRIVATE=true allows it)',
    );
    refused(
      await admin.run(['webhooks', 'create', '--url', 'gopher://example.org/'], { env: ALLOW }),
      2,
      '--url: must be an http:// or https:// URL (got gopher)',
    );
  });

  it('an unknown event type is exit 2 naming --events, with a suggestion', async () => {
    const result = await admin.run(['webhooks', 'create', '--url', hooks.url, '--events', 'appointment.noshow'], { env: ALLOW });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: --events: "appointment\.noshow" is not an event type: must be one of .* \(did you mean appointment\.no_show\?\)\n$/);
  });

  it('doctors and patients are refused with exit 6; without a login exit 5', async () => {
    for (const role of ['doctor', 'patient'] as const) {
      const { user } = await makeUser(db, role);
      const cli = await loginAs(db.url, user.email, PASSWORD);
      refused(await cli.run(['webhooks', 'list']), 6, `managing webhooks needs the admin role; you are a ${role}`);
      refused(await cli.run(['webhooks', 'create', '--url', hooks.url], { env: ALLOW }), 6, `managing webhooks needs the admin role; you are a ${role}`);
    }
    expect((await cliFor(db.url).run(['webhooks', 'list'])).code).toBe(5);
  });
});
