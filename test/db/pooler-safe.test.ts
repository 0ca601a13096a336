// Behind a transaction pooler (ASCEND_DB_POOLER=transaction, src/db/pooler.ts) a server connection is ascend's only
// for one transaction: session state set by one request would leak into another client's, or be missing at the
// next statement. The SQL in src/ must therefore keep none — a new `set statement_timeout` or session advisory
// lock would pass every direct test and break only behind PgBouncer. The places that need a session are named
// here, and use DATABASE_DIRECT_URL.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Session state in SQL text, each with what keeps it out of a pooled session. */
const SESSION_STATE: { what: string; pattern: RegExp }[] = [
  // A statement beginning with SET (not UPDATE … SET): only SET LOCAL lasts no longer than the transaction.
  { what: 'SET without LOCAL', pattern: /[`'"(;]\s*set\s+(?!local\b)(session\s+)?[a-z_.]+\s*(=|to\b)/i },
  { what: 'set_config(…, false)', pattern: /set_config\([^)]*,\s*false\s*\)/i },
  { what: 'a session advisory lock', pattern: /pg_(try_)?advisory_lock(_shared)?\s*\(/i },
  { what: 'LISTEN', pattern: /[`'"]\s*listen\s+[a-z_]/i },
  { what: 'a temporary table', pattern: /create\s+(temp|temporary)\s+table/i },
  { what: 'PREPARE in SQL', pattern: /[`'"]\s*prepare\s+[a-z_]+/i },
];

/** Where a session is needed on purpose, on DATABASE_DIRECT_URL (ConnectionRoutes.listenUrl). */
const ALLOWED: Record<string, string[]> = { 'http/auth-cache.ts': ['LISTEN'] };

describe('SQL in src/ keeps no session state (safe behind a transaction pooler)', () => {
  it('no SET without LOCAL, session advisory lock, LISTEN, temporary table or PREPARE outside the places that use DATABASE_DIRECT_URL', () => {
    const found: string[] = [];
    const allowedSeen: string[] = [];
    for (const file of sources(SRC)) {
      const name = relative(SRC, file);
      const text = readFileSync(file, 'utf8');
      for (const { what, pattern } of SESSION_STATE) {
        if (!pattern.test(text)) continue;
        if (ALLOWED[name]?.includes(what)) allowedSeen.push(`${name}: ${what}`);
        else found.push(`${name}: ${what}`);
      }
    }
    expect(found).toEqual([]);
    // Each exception is still there (a stale one would hide a new use in that file).
    expect(allowedSeen).toEqual(Object.entries(ALLOWED).flatMap(([name, whats]) => whats.map((w) => `${name}: ${w}`)));
  });

  it('the patterns find what they are for', () => {
    const hit = (sql: string) => SESSION_STATE.filter(({ pattern }) => pattern.test(sql)).map((s) => s.what);
    expect(hit("query(em, 'set statement_timeout = 5000')")).toEqual(['SET without LOCAL']);
    expect(hit("query(em, 'set session lock_timeout to 100')")).toEqual(['SET without LOCAL']);
    expect(hit("query(em, 'set local lock_timeout = 100')")).toEqual([]);
    expect(hit("query(em, 'update slot set capacity = 2 where id = ?')")).toEqual([]);
    expect(hit("select set_config('a.b', '1', false)")).toEqual(['set_config(…, false)']);
    expect(hit("select set_config('a.b', '1', true)")).toEqual([]);
    expect(hit("'select pg_advisory_lock(1)'")).toEqual(['a session advisory lock']);
    expect(hit("'select pg_advisory_xact_lock(1)'")).toEqual([]);
    expect(hit("c.query('listen ascend_auth')")).toEqual(['LISTEN']);
    expect(hit("'create temp table x (id int)'")).toEqual(['a temporary table']);
    expect(hit("'prepare q as select 1'")).toEqual(['PREPARE in SQL']);
  });
});
