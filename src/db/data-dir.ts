import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { statSync } from 'node:fs';
import { DatabaseUnavailableError } from '../domain/errors.js';

export const isRoot = (): boolean => process.getuid?.() === 0;

/** Where root keeps the embedded database: root's own home is 0700, which the `postgres` user cannot enter. */
export const ROOT_DATA_DIR = '/var/lib/ascend';

export interface DataDirChoice {
  dir: string;
  /** Why this directory: shown by `ascend db status` so nobody has to guess. */
  why: string;
}

/** The first ancestor of `path` (or `path` itself) that exists but that other users cannot traverse. */
export function blockedAncestor(path: string): string | null {
  let current = resolve(path);
  const chain: string[] = [];
  for (;;) {
    chain.unshift(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const dir of chain) {
    let mode: number;
    try {
      mode = statSync(dir).mode;
    } catch {
      return null; // the rest does not exist yet; ascend creates it traversable
    }
    if ((mode & 0o001) === 0) return dir;
  }
  return null;
}

export function chooseDataDir(env: NodeJS.ProcessEnv = process.env): DataDirChoice {
  if (env.ASCEND_DATA_DIR) {
    const dir = resolve(env.ASCEND_DATA_DIR);
    if (isRoot()) {
      const blocked = blockedAncestor(dir);
      if (blocked) {
        throw new DatabaseUnavailableError(
          `ASCEND_DATA_DIR: ${dir} is below ${blocked}, which the postgres user cannot enter (ascend runs PostgreSQL as postgres when you are root); choose a directory such as ${ROOT_DATA_DIR}`,
          'ASCEND_DATA_DIR',
        );
      }
    }
    return { dir, why: 'ASCEND_DATA_DIR' };
  }
  const base = env.XDG_DATA_HOME ? resolve(env.XDG_DATA_HOME) : join(homedir(), '.local', 'share');
  const dir = join(base, 'ascend');
  if (isRoot()) {
    const blocked = blockedAncestor(dir);
    if (blocked) {
      return { dir: ROOT_DATA_DIR, why: `running as root and ${blocked} is closed to the postgres user` };
    }
  }
  return { dir, why: env.XDG_DATA_HOME ? '$XDG_DATA_HOME/ascend' : '~/.local/share/ascend' };
}
