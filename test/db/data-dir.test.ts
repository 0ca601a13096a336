import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { blockedAncestor, chooseDataDir, isRoot, ROOT_DATA_DIR } from '../../src/db/data-dir.js';
import { DatabaseUnavailableError } from '../../src/domain/errors.js';

const scratch = mkdtempSync(join(tmpdir(), 'ascend-test-dirs-'));
chmodSync(scratch, 0o755);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('choosing the data directory', () => {
  it('ASCEND_DATA_DIR wins', () => {
    const dir = join(scratch, 'explicit');
    expect(chooseDataDir({ ASCEND_DATA_DIR: dir })).toEqual({ dir, why: 'ASCEND_DATA_DIR' });
  });

  it('defaults to $XDG_DATA_HOME/ascend when PostgreSQL can reach it', () => {
    const xdg = join(scratch, 'xdg-open');
    mkdirSync(xdg, { mode: 0o755 });
    expect(chooseDataDir({ XDG_DATA_HOME: xdg })).toEqual({ dir: join(xdg, 'ascend'), why: '$XDG_DATA_HOME/ascend' });
  });

  it('finds the first directory others cannot enter', () => {
    const closed = join(scratch, 'closed');
    mkdirSync(join(closed, 'inner'), { recursive: true });
    chmodSync(closed, 0o700);
    expect(blockedAncestor(join(closed, 'inner', 'ascend'))).toBe(closed);
    expect(blockedAncestor(join(scratch, 'not', 'yet', 'there'))).toBeNull();
  });

  it('as root, a home closed to the postgres user sends the default to /var/lib/ascend and an explicit one fails clearly', () => {
    const closed = join(scratch, 'closed-home');
    mkdirSync(closed, { mode: 0o700 });
    chmodSync(closed, 0o700);
    const xdg = join(closed, '.local', 'share');
    if (isRoot()) {
      expect(chooseDataDir({ XDG_DATA_HOME: xdg })).toEqual({ dir: ROOT_DATA_DIR, why: `running as root and ${closed} is closed to the postgres user` });
      expect(() => chooseDataDir({ ASCEND_DATA_DIR: join(closed, 'db') })).toThrow(DatabaseUnavailableError);
      expect(() => chooseDataDir({ ASCEND_DATA_DIR: join(closed, 'db') })).toThrow(
        /ASCEND_DATA_DIR: .* is below .*closed-home, which the postgres user cannot enter/,
      );
    } else {
      // A normal user runs PostgreSQL as themself: their own closed home is fine.
      expect(chooseDataDir({ XDG_DATA_HOME: xdg })).toEqual({ dir: join(xdg, 'ascend'), why: '$XDG_DATA_HOME/ascend' });
      expect(chooseDataDir({ ASCEND_DATA_DIR: join(closed, 'db') }).dir).toBe(join(closed, 'db'));
    }
  });
});
