// Standard Webhooks signing (https://www.standardwebhooks.com): the signed content is `id.timestamp.body`, the
// key the base64 after `whsec_`, the signature `v1,` + base64 HMAC-SHA256. Receivers verify with any Standard
// Webhooks library (the tests use the reference `standardwebhooks` package).
import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

/** A new endpoint's secret: 24 random bytes, as the specification suggests. */
export function newSecret(): string {
  return `${PREFIX}${randomBytes(24).toString('base64')}`;
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The three headers of one attempt: `at` is the attempt's time (a retry signs again, with the same id). */
export function signedHeaders(secret: string, id: string, at: Date, body: string): SignedHeaders {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}
