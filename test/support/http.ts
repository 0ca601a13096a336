// The real HTTP server over a real socket: buildServer on 127.0.0.1 with an ephemeral port, on a test
// database; and a small client for it, which checks every response against the API's contract (./api/contract.ts).
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import type { ReplicaSettings } from '../../src/db/replica.js';
import { buildServer } from '../../src/http/server.js';
import type { TestDatabase } from './db.js';
import { contractOf } from './api/contract.js';

export interface TestServer {
  url: string;
  app: FastifyInstance;
  /** Every log line the server wrote, parsed. */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startServer(
  db: TestDatabase,
  options: { corsOrigins?: string[]; publicDirectory?: boolean; replica?: ReplicaSettings } = {},
): Promise<TestServer> {
  const logs: Record<string, unknown>[] = [];
  const logStream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const app = await buildServer({
    orm: db.orm,
    clock: db.clock,
    logStream,
    corsOrigins: options.corsOrigins,
    publicDirectory: options.publicDirectory,
    replica: options.replica,
    logLevel: 'info',
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, app, logs, close: () => app.close() };
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface ApiOptions {
  token?: string;
  body?: unknown;
  /** Sent as is (for malformed JSON and other abuse). */
  rawBody?: string;
  headers?: Record<string, string>;
  /**
   * Why this response may break the contract: only for a test that provokes a bug's 500 on purpose (a 500 is
   * never documented). Every other response is checked.
   */
  outsideContract?: string;
}

export async function api<T = any>(base: string, method: string, path: string, options: ApiOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  // The contract first (once per server): a request in flight when the server stops can still be judged.
  const contract = options.outsideContract ? undefined : await contractOf(base, path);
  const response = await fetch(base + path, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: keep the text */
  }
  // Every response a test receives must be one its operation documents: the contract cannot drift unnoticed.
  contract?.assert({ method, path, status: response.status, contentType: response.headers.get('content-type'), text });
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

/** A fresh database with its first admin (admin@example.org / S3cure-pass!), a server on it, and the admin's token. */
export async function startServerWithAdmin(): Promise<{ db: TestDatabase; server: TestServer; adminToken: string; stop(): Promise<void> }> {
  const { createTestDatabase } = await import('./db.js');
  const { initialise } = await import('../../src/services/init.js');
  const { SYSTEM } = await import('../../src/domain/roles.js');
  const db = await createTestDatabase();
  await initialise(db.ctx(SYSTEM), { adminEmail: 'admin@example.org', adminName: 'Ada Admin', adminPassword: 'S3cure-pass!' });
  const server = await startServer(db);
  const login = await api(server.url, 'POST', '/api/v1/auth/login', { body: { email: 'admin@example.org', password: 'S3cure-pass!' } });
  return {
    db,
    server,
    adminToken: login.body.access_token,
    async stop() {
      await server.close();
      await db.drop();
    },
  };
}

export interface ServerWithAdmin {
  db: TestDatabase;
  url: string;
  adminToken: string;
}

/**
 * startServerWithAdmin for a whole test file: started before its first test and stopped after its last. The
 * fields are there from beforeAll on, so read them inside hooks and tests.
 */
export function serverWithAdminPerFile(): ServerWithAdmin {
  const world = {} as ServerWithAdmin;
  let stop = async () => {};
  beforeAll(async () => {
    const started = await startServerWithAdmin();
    Object.assign(world, { db: started.db, url: started.server.url, adminToken: started.adminToken });
    stop = started.stop;
  });
  afterAll(() => stop());
  return world;
}
