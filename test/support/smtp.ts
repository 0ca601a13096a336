// A real SMTP server on loopback (the smtp-server package) that keeps every message it accepts, and reads
// them back: headers, the text part, and the calendar attachment. ASCEND_SMTP_URL points at `url`.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface MimePart {
  headers: Record<string, string>;
  body: string;
}

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  headers: Record<string, string>;
  subject: string;
  /** The text/plain part, decoded. */
  text: string;
  /** The text/calendar part: its Content-Type (with `method=`) and its content, decoded. */
  calendar?: { contentType: string; content: string };
}

export interface TestSmtpServer {
  url: string;
  received: ReceivedMail[];
  /** Answer every message with this SMTP error (e.g. 451) instead of accepting it; null accepts again. */
  refuseWith(code: number | null): void;
  /** Resolves once `n` messages have arrived in all (or rejects after `ms`). */
  waitFor(n: number, ms?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

/** Headers of a MIME entity, names lower-case, folded lines joined. */
function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function decode(body: string, encoding = '7bit'): string {
  if (/base64/i.test(encoding)) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (/quoted-printable/i.test(encoding)) {
    const bytes = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

/** Every leaf part of a MIME message, depth first, decoded. */
export function mimeParts(raw: string): MimePart[] {
  const split = raw.indexOf('\r\n\r\n');
  const headers = parseHeaders(raw.slice(0, split));
  const body = raw.slice(split + 4);
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  if (!boundary) return [{ headers, body: decode(body, headers['content-transfer-encoding']) }];
  return body
    .split(`--${boundary}`)
    .slice(1, -1)
    .flatMap((part) => mimeParts(part.replace(/^\r\n/, '').replace(/\r\n$/, '')));
}

/** A header's encoded words (=?UTF-8?Q?…?=, =?UTF-8?B?…?=) decoded. */
function decodeWords(value: string): string {
  return value.replace(/=\?utf-8\?([QB])\?([^?]*)\?=\s*/gi, (_, kind: string, text: string) =>
    kind.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decode(text.replace(/_/g, ' '), 'quoted-printable'),
  );
}

export function readMail(raw: string, envelope: { from: string; to: string[] }): ReceivedMail {
  const headers = parseHeaders(raw.slice(0, raw.indexOf('\r\n\r\n')));
  const parts = mimeParts(raw);
  const text = parts.find((p) => (p.headers['content-type'] ?? 'text/plain').startsWith('text/plain'));
  const calendar = parts.find((p) => p.headers['content-type']?.startsWith('text/calendar'));
  return {
    ...envelope,
    raw,
    headers,
    subject: decodeWords(headers.subject ?? ''),
    text: text?.body ?? '',
    calendar: calendar ? { contentType: calendar.headers['content-type'] ?? '', content: calendar.body } : undefined,
  };
}

/** Starts the server on a free loopback port: no TLS, no login needed (any given is accepted). */
export async function startSmtpServer(): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  const waiting: { n: number; resolve: (mails: ReceivedMail[]) => void }[] = [];
  let refusal: number | null = null;
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    logger: false,
    onAuth: (_auth, _session, callback) => callback(null, { user: 'test' }),
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (refusal !== null) {
          const err = Object.assign(new Error('mailbox busy, try later'), { responseCode: refusal });
          return callback(err);
        }
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        received.push(readMail(Buffer.concat(chunks).toString('utf8'), { from, to: session.envelope.rcptTo.map((r) => r.address) }));
        for (const w of waiting.filter((x) => received.length >= x.n)) w.resolve(received.slice());
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    refuseWith: (code) => {
      refusal = code;
    },
    waitFor: (n, ms = 10_000) =>
      received.length >= n
        ? Promise.resolve(received.slice())
        : new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`SMTP: ${received.length} of ${n} messages after ${ms} ms`)), ms);
            waiting.push({
              n,
              resolve: (mails) => {
                clearTimeout(timer);
                resolve(mails);
              },
            });
          }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
