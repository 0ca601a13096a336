// Sending email: the SMTP server named by ASCEND_SMTP_URL, through nodemailer, from ASCEND_MAIL_FROM. Mail is
// optional: without ASCEND_SMTP_URL nothing is sent (the events still go out to webhooks). A server that
// cannot be reached, or refuses a message, is MailUnavailableError: the worker retries later, `mail test`
// says so in one line (exit 8).
import nodemailer, { type Transporter } from 'nodemailer';
import { MailUnavailableError, ValidationError } from '../../domain/errors.js';
import { z } from 'zod';
import type { Clock } from '../../domain/clock.js';
import { email } from '../../domain/schemas/common.js';
import { parseInput, type Untrusted } from '../../domain/validation.js';

export const DEFAULT_MAIL_FROM = 'ascend <no-reply@localhost>';

/** How long to wait for the server to answer at each step, so a dead server fails a send instead of hanging it. */
const TIMEOUT_MS = 10_000;

export interface MailConfig {
  /** smtp:// or smtps://, with any credentials: never shown. */
  url: string;
  /** `Name <address>` or a bare address. */
  from: string;
  /** The from address alone (the ICS ORGANIZER). */
  fromAddress: string;
}

/** A URL without its password, to name it in an error. */
const withoutPassword = (url: URL): string => {
  const shown = new URL(url.href);
  if (shown.password) shown.password = '***';
  return shown.href;
};

/** `Name <a@b>` or `a@b` into its address, or undefined when it is neither (a host without a dot, `localhost`, is fine). */
function addressOf(from: string): string | undefined {
  const address = (/<([^<>]+)>\s*$/.exec(from)?.[1] ?? from).trim();
  return /^[^@\s<>"]+@[^@\s<>"]+$/.test(address) ? address : undefined;
}

/**
 * The mail settings, or null when ASCEND_SMTP_URL is unset or empty (no mail). A URL that is not smtp:// or
 * smtps:// with a host, or a From that holds no address, is refused naming its variable.
 */
export function mailConfigFromEnv(env: NodeJS.ProcessEnv = process.env): MailConfig | null {
  const text = env.ASCEND_SMTP_URL?.trim();
  if (!text) return null;
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || !['smtp:', 'smtps:'].includes(url.protocol) || !url.hostname) {
    const shown = url ? withoutPassword(url) : text.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
    throw new ValidationError(`must be an smtp:// or smtps:// URL such as smtp://user:pass@mail.example.org:587 (got "${shown}")`, 'ASCEND_SMTP_URL');
  }
  const from = env.ASCEND_MAIL_FROM?.trim() || DEFAULT_MAIL_FROM;
  const fromAddress = addressOf(from);
  if (!fromAddress) throw new ValidationError(`must be an address, or a name and <address> (got "${from}")`, 'ASCEND_MAIL_FROM');
  return { url: text, from, fromAddress };
}

/** The settings, or a refusal naming ASCEND_SMTP_URL when mail is not set up (`mail test`). */
export function requireMailConfig(env: NodeJS.ProcessEnv = process.env): MailConfig {
  const config = mailConfigFromEnv(env);
  if (!config) throw new ValidationError('is not set: give the SMTP server to send through, e.g. smtp://user:pass@mail.example.org:587', 'ASCEND_SMTP_URL');
  return config;
}

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  /** The iCalendar invitation, and its METHOD (the Content-Type's `method` parameter must agree). */
  calendar?: { method: 'REQUEST' | 'CANCEL'; content: string };
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/** What went wrong, in one line without the server's credentials or a stack. */
function failure(err: unknown): MailUnavailableError {
  const e = err as { code?: string; responseCode?: number; response?: string; message?: string };
  const detail = e.responseCode
    ? `refused the message (${e.responseCode}${e.response ? ` ${e.response.replace(/\s+/g, ' ').trim().slice(0, 200)}` : ''})`
    : e.code === 'ECONNREFUSED' || e.code === 'ESOCKET' || e.code === 'ECONNECTION' || e.code === 'ETIMEDOUT' || e.code === 'EDNS' || e.code === 'EAUTH'
      ? `could not be used (${e.code}: ${(e.message ?? '').split('\n')[0]?.slice(0, 200)})`
      : `failed (${(e.message ?? String(err)).split('\n')[0]?.slice(0, 200)})`;
  return new MailUnavailableError(`the mail server (ASCEND_SMTP_URL) ${detail}`);
}

/** A mailer on the configured server: each send its own connection (a worker sends in bursts, then idles). */
export function openMailer(config: MailConfig): Mailer {
  const transport: Transporter = nodemailer.createTransport(
    { url: config.url, connectionTimeout: TIMEOUT_MS, greetingTimeout: TIMEOUT_MS, socketTimeout: TIMEOUT_MS },
    { from: config.from },
  );
  return {
    async send(mail) {
      try {
        await transport.sendMail({
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          ...(mail.calendar
            ? {
                attachments: [
                  {
                    filename: mail.calendar.method === 'CANCEL' ? 'cancel.ics' : 'invite.ics',
                    content: mail.calendar.content,
                    contentType: `text/calendar; charset=utf-8; method=${mail.calendar.method}`,
                  },
                ],
              }
            : {}),
        });
      } catch (err) {
        throw failure(err);
      }
    },
    close: () => transport.close(),
  };
}

export const testMailInput = z.strictObject({ to: email });
export type TestMailInput = z.input<typeof testMailInput>;

/**
 * `ascend mail test`: one message to `to`, now, through the configured server; refused naming ASCEND_SMTP_URL
 * when mail is not set up. Returns what was sent, for the edge to say.
 */
export async function sendTestMail(
  raw: TestMailInput | Untrusted,
  clock: Clock,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ to: string; from: string; server: string }> {
  const { to } = parseInput(testMailInput, raw);
  const config = requireMailConfig(env);
  const server = new URL(config.url).host;
  const mailer = openMailer(config);
  try {
    await mailer.send({
      to,
      subject: 'ascend: test message',
      text: `This message was sent by "ascend mail test" at ${clock.now().toISOString()} through ${server}, from ${config.from}.\nMail from ascend reaches this address.`,
    });
  } finally {
    mailer.close();
  }
  return { to, from: config.from, server };
}
