// A real HTTP receiver for webhooks on loopback: it records every request (headers, body) and answers as the
// test says — 2xx, another status, not at all (`down`: the connection is cut), or only when released (`hold`).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** The real time it arrived (ms). */
  at: number;
}

export type ReceiverMode = { answer: number } | { down: true } | { hold: true };

export interface Receiver {
  url: string;
  received: Received[];
  /** How the next requests are answered (default: 200). */
  mode: ReceiverMode;
  /** Resolves when `n` requests have arrived in all. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  /** Answers every request held so far with this status. */
  release(status?: number): void;
  /** How many requests are held, unanswered. */
  held(): number;
  close(): Promise<void>;
}

export async function startReceiver(path = '/hook'): Promise<Receiver> {
  const received: Received[] = [];
  const holding: ((status: number) => void)[] = [];
  const sockets = new Set<Socket>();
  const waiters: { n: number; done: () => void }[] = [];
  const receiver = { mode: { answer: 200 } as ReceiverMode } as Receiver;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      for (const w of waiters.filter((x) => received.length >= x.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.done();
      }
      const mode = receiver.mode;
      if ('down' in mode) req.socket.destroy();
      else if ('hold' in mode) holding.push((status) => res.writeHead(status).end());
      else res.writeHead(mode.answer, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    waitFor: (n: number, timeoutMs = 10_000) =>
      received.length >= n
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`receiver: ${received.length} of ${n} requests after ${timeoutMs} ms`)), timeoutMs);
            waiters.push({
              n,
              done: () => {
                clearTimeout(timer);
                resolve();
              },
            });
          }),
    release: (status = 200) => {
      for (const answer of holding.splice(0)) answer(status);
    },
    held: () => holding.length,
    close: async () => {
      for (const answer of holding.splice(0)) answer(503);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
