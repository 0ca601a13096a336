// `ascend mail test --to ADDRESS`: one message now through ASCEND_SMTP_URL (a real SMTP server on loopback);
// without mail set up, or with a server that cannot be reached or refuses, one line naming the variable.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cli, cliFor, refused } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { startSmtpServer, type TestSmtpServer } from '../../support/smtp.js';

let db: TestDatabase;
let smtp: TestSmtpServer;
let cli: Cli;

beforeAll(async () => {
  db = await createTestDatabase();
  smtp = await startSmtpServer();
  cli = cliFor(db.url);
});
afterAll(async () => {
  await smtp.close();
  await db.drop();
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

describe('ascend mail test', () => {
  it('sends one message now, from ASCEND_MAIL_FROM, and says so', async () => {
    const result = await cli.run(['mail', 'test', '--to', 'ops@example.org'], {
      env: { ASCEND_SMTP_URL: smtp.url, ASCEND_MAIL_FROM: 'Ops <ops-bot@example.org>' },
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Sent a test message to ops@example.org through ${new URL(smtp.url).host}, from Ops <ops-bot@example.org>`);
    const [mail] = await smtp.waitFor(1);
    expect(mail).toMatchObject({ from: 'ops-bot@example.org', to: ['ops@example.org'], subject: 'ascend: test message' });
  });

  it('sends from "ascend <no-reply@localhost>" without ASCEND_MAIL_FROM, and answers JSON with --json', async () => {
    const result = await cli.run(['mail', 'test', '--to', 'ops2@example.org', '--json'], { env: { ASCEND_SMTP_URL: smtp.url } });
    expect(result.code).toBe(0);
    expect(result.json()).toEqual({ to: 'ops2@example.org', from: 'ascend <no-reply@localhost>', server: new URL(smtp.url).host });
    expect(smtp.received.find((m) => m.to.includes('ops2@example.org'))?.from).toBe('no-reply@localhost');
  });

  it('is refused with exit 2 naming ASCEND_SMTP_URL when mail is not set up', async () => {
    refused(
      await cli.run(['mail', 'test', '--to', 'ops@example.org'], { env: { ASCEND_SMTP_URL: '' } }),
      2,
      'ASCEND_SMTP_URL: is not set: give the SMTP server to send through, e.g. smtp://user:pass@mail.example.org:587',
    );
  });

  it('refuses a URL that is not smtp:// or smtps:// with exit 2, without showing its password', async () => {
    refused(
      await cli.run(['mail', 'test', '--to', 'ops@example.org'], { env: { ASCEND_SMTP_URL: 'http://me:secret@mail.example.org' } }),
      2,
      'ASCEND_SMTP_URL: must be an smtp:// or smtps:// URL such as smtp://user:pass@mail.example.org:587 (got "http://me:***@mail.example.org/")',
    );
  });

  it('refuses a bad --to with exit 2 naming the flag', async () => {
    refused(await cli.run(['mail', 'test', '--to', 'nobody'], { env: { ASCEND_SMTP_URL: smtp.url } }), 2, '--to: must be a valid email address');
  });

  it('says in one line, exit 8, that the server cannot be reached', async () => {
    const result = await cli.run(['mail', 'test', '--to', 'ops@example.org', '--json'], { env: { ASCEND_SMTP_URL: `smtp://127.0.0.1:${await closedPort()}` } });
    expect(result.code).toBe(8);
    expect(JSON.parse(result.stderr).error).toMatchObject({
      code: 'mail_unreachable',
      exitCode: 8,
      message: expect.stringMatching(/^the mail server \(ASCEND_SMTP_URL\) could not be used \(\w+: .*ECONNREFUSED.*\)$/),
    });
  });

  it('says in one line, exit 8, that the server refused the message', async () => {
    smtp.refuseWith(550);
    try {
      const result = await cli.run(['mail', 'test', '--to', 'ops@example.org'], { env: { ASCEND_SMTP_URL: smtp.url } });
      refused(result, 8, 'the mail server (ASCEND_SMTP_URL) refused the message (550 550 mailbox busy, try later)');
    } finally {
      smtp.refuseWith(null);
    }
  });
});
