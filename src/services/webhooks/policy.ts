// Where a webhook may point, and the settings deliveries run by. A webhook makes the server send requests to
// a URL an admin typed: without these rules it could reach what only the server can (its loopback, the private
// network, a cloud's metadata address at 169.254.169.254). So only http(s), no credentials in the URL, and no
// loopback, private, link-local, unique-local, multicast or reserved address — as a literal or as what the name
// resolves to — unless ASCEND_WEBHOOKS_ALLOW_PRIVATE=true (tests, and receivers on one's own network). The rule
// is checked at create and again at every delivery, and a delivery connects to the very address it checked
// (`connectTo`), so a name that resolves to something else by then (DNS rebinding) gains nothing.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { parseDuration } from '../../domain/durations.js';
import { ValidationError } from '../../domain/errors.js';

export interface WebhookSettings {
  allowPrivate: boolean;
  /** How long one delivery attempt may take, connecting included. */
  timeoutMs: number;
  /** How long after a delivery was created it is still retried; then it is failed. */
  retryForMs: number;
}

function durationMs(env: NodeJS.ProcessEnv, name: string, fallback: string): number {
  const seconds = parseDuration(env[name]?.trim() || fallback, name);
  if (seconds <= 0) throw new ValidationError('must be longer than 0s', name);
  return seconds * 1000;
}

/** The settings from the environment (a bad value is refused naming the variable). */
export function webhookSettings(env: NodeJS.ProcessEnv = process.env): WebhookSettings {
  const allow = env.ASCEND_WEBHOOKS_ALLOW_PRIVATE?.trim().toLowerCase();
  if (allow !== undefined && allow !== '' && allow !== 'true' && allow !== 'false') {
    throw new ValidationError(`must be true or false (got "${env.ASCEND_WEBHOOKS_ALLOW_PRIVATE}")`, 'ASCEND_WEBHOOKS_ALLOW_PRIVATE');
  }
  return {
    allowPrivate: allow === 'true',
    timeoutMs: durationMs(env, 'ASCEND_WEBHOOK_TIMEOUT', '10s'),
    retryForMs: durationMs(env, 'ASCEND_WEBHOOK_RETRY_FOR', '1d'),
  };
}

/** Addresses a webhook may not reach unless private ones are allowed. */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['fc00::', 7], // unique-local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
  ['64:ff9b::', 96], // NAT64: an IPv4 address in disguise
  ['2001:db8::', 32], // documentation
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv6');
}

/** An IPv4 address written as IPv6 (`::ffff:127.0.0.1`, `::ffff:7f00:1`), as IPv4; else undefined. */
function mappedIpv4(address: string): string | undefined {
  const m = /^::ffff:(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (!m) return undefined;
  if (m[1]) return m[1];
  const hi = Number.parseInt(m[2] ?? '0', 16);
  const lo = Number.parseInt(m[3] ?? '0', 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

export function isPrivateAddress(address: string): boolean {
  const v4 = mappedIpv4(address);
  if (v4) return PRIVATE.check(v4, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** What a delivery connects to: the checked address, and the URL (whose host name still goes in Host and SNI). */
export interface Destination {
  url: URL;
  address: string;
  family: 4 | 6;
}

/** The URL's shape: http(s), a host, no credentials. Returns it parsed. */
export function webhookUrl(text: string, field = 'url'): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ValidationError(`must be an absolute http:// or https:// URL (got "${text}")`, field);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationError(`must be an http:// or https:// URL (got ${url.protocol.replace(/:$/, '')})`, field);
  }
  if (url.username || url.password) throw new ValidationError('must not carry credentials (user:password@): the signature proves the sender', field);
  if (!url.hostname) throw new ValidationError('must name a host', field);
  return url;
}

/**
 * Where the URL may be reached: its host resolved (or taken literally) and checked. Refused (ValidationError
 * naming `field`) when the host does not resolve, or when any address it resolves to is private and private
 * ones are not allowed (one private answer among public ones is how rebinding starts).
 */
export async function resolveDestination(text: string, settings: WebhookSettings, field = 'url'): Promise<Destination> {
  const url = webhookUrl(text, field);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: { address: string; family: number }[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await lookup(host, { all: true, verbatim: true });
    } catch {
      throw new ValidationError(`the host ${host} does not resolve`, field);
    }
  }
  const first = addresses[0];
  if (!first) throw new ValidationError(`the host ${host} does not resolve`, field);
  if (!settings.allowPrivate) {
    const hidden = addresses.find((a) => isPrivateAddress(a.address));
    if (hidden) {
      const said = hidden.address === host ? host : `${host} (${hidden.address})`;
      throw new ValidationError(
        `${said} is a loopback, private or reserved address: webhooks may not reach it (ASCEND_WEBHOOKS_ALLOW_PRIVATE=true allows it)`,
        field,
      );
    }
  }
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}
