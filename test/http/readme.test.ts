// The README's curl session, run line for line against a real server: the manual cannot rot.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/db.js';
import { startServerWithAdmin, type TestServer } from '../support/http.js';

let db: TestDatabase;
let server: TestServer;
let stop: () => Promise<void>;
beforeAll(async () => {
  ({ db, server, stop } = await startServerWithAdmin());
});
afterAll(() => stop());

function readmeExamples(): string {
  const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
  const section = readme.split('<!-- api-examples:start -->')[1]!.split('<!-- api-examples:end -->')[0]!;
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
}

describe('the README’s API examples', () => {
  it('run as written, each call succeeding and the booking made', async () => {
    const script = readmeExamples();
    expect(script).toContain('curl');
    // bash runs the lines in order and stops at the first failing one (curl -f fails on HTTP errors). It runs
    // asynchronously: this process serves the requests.
    const result = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolvePromise) => {
      const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { env: { ...process.env, BASE: server.url } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (status) => resolvePromise({ status, stdout, stderr }));
    });
    expect(result.status, result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).toContain('"email":"admin@example.org"');
    expect(out).toMatch(/"created":45,"skipped":0/); // 5 weekdays × 9 slots
    expect(out).toMatch(/"status":"booked","reason":"check-up"/);
    expect(out).toContain('"status":422');
    expect(out).toContain('"field":"slotId"');
    expect(out).toContain('BEGIN:VCALENDAR');
    const [booking] = await db.sql(`select count(*)::int as n from appointment where status = 'booked'`);
    expect(booking!.n).toBe(1);
  });
});
