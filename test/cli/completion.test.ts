// Tab completion as a shell user gets it: the script `ascend completion SHELL` prints is loaded into a real
// bash (its completion function called the way bash calls it, COMPREPLY read back) and a real fish
// (`complete -C`); zsh's is parsed and registered with compinit (driving zsh's completion widgets needs a
// terminal). Clinic and doctor names come from this file's database through `ascend __complete`.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SYSTEM } from '../../src/domain/roles.js';
import { deactivateClinic } from '../../src/services/clinics.js';
import { BIN, runCli } from '../support/cli.js';
import { FROZEN_AT } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor } from '../support/fixtures.js';

let db: TestDatabase;
/** A directory holding the scripts and an `ascend` on PATH, as an installed one would be. */
let dir: string;
let env: Record<string, string>;
let lakeside: { id: number };
let doctor: { id: number; name: string };

/** Runs a shell with `args`, in this file's environment; resolves with its stdout, or rejects with its stderr. */
function shell(command: string, args: string[], extraEnv: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: dir, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${command} exited ${code}: ${stderr}`))));
  });
}

/**
 * What bash offers for the command line `words` (the last one being completed, '' for a fresh word): the
 * script is sourced, `complete -p ascend` must name its function, which is called as bash's programmable
 * completion calls it.
 */
async function bashCompletes(...words: string[]): Promise<string[]> {
  const out = await shell('bash', [
    '-c',
    `source ./ascend.bash
     spec=$(complete -p ascend) || exit 9
     fn=\${spec#*-F }; fn=\${fn%% *}
     COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=\${#COMP_LINE}
     "$fn" ascend "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
     printf '%s\\n' "\${COMPREPLY[@]}"`,
    'bash',
    'ascend',
    ...words,
  ]);
  return out.split('\n').filter(Boolean);
}

/** What fish offers for the command line `line`: the candidates `complete -C` prints, without descriptions (fish sorts them). */
async function fishCompletes(line: string): Promise<string[]> {
  const out = await shell('fish', ['-c', 'source ./ascend.fish; complete -C $argv[1]', line]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((candidate) => candidate.split('\t')[0] ?? '');
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(join(inject('testTmp'), 'completion-'));
  writeFileSync(join(dir, 'ascend'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(dir, 'ascend'), 0o755);
  env = {
    PATH: `${dir}:${process.env.PATH ?? ''}`,
    HOME: dir,
    DATABASE_URL: db.url,
    ASCEND_NOW: FROZEN_AT,
    CI: 'true',
    NO_COLOR: '1',
  };
  for (const name of ['bash', 'zsh', 'fish'] as const) {
    const result = await runCli(['completion', name]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    writeFileSync(join(dir, `ascend.${name}`), result.stdout);
  }
  lakeside = await makeClinic(db, { name: 'Lakeside Heart Clinic', city: 'Bhopal' });
  const closed = await makeClinic(db, { name: 'Lakeview Closed Clinic' });
  await deactivateClinic(db.ctx(SYSTEM), closed.id);
  ({ doctor } = await makeDoctor(db, lakeside.id));
});

afterAll(async () => {
  await db?.drop();
});

describe('ascend completion bash', () => {
  it('completes the commands, and the subcommands of a command', async () => {
    expect(await bashCompletes('ap')).toEqual(['appointments']);
    expect(await bashCompletes('appointments', '')).toEqual(['book', 'cancel', 'reschedule', 'complete', 'no-show', 'note', 'list', 'show', 'export', 'help']);
    expect(await bashCompletes('doctors', 'leave', 'a')).toEqual(['add']);
  });

  it('completes a command’s flags, and a flag of the program after a subcommand', async () => {
    const flags = await bashCompletes('appointments', 'book', '--');
    expect(flags).toEqual(expect.arrayContaining(['--slot', '--patient', '--reason', '--idempotency-key', '--json', '--help']));
    expect(await bashCompletes('slots', 'generate', '--dr')).toEqual(['--dry-run']);
  });

  it('completes the values of a flag with a fixed set, after a space or an =', async () => {
    expect(await bashCompletes('appointments', 'list', '--status', '')).toEqual(['booked', 'cancelled', 'completed', 'no_show']);
    expect(await bashCompletes('patients', 'update', '2', '--blood-group', 'A')).toEqual(['A+', 'A-', 'AB+', 'AB-']);
    expect(await bashCompletes('users', 'list', '--role=p')).toEqual(['--role=patient']);
    expect(await bashCompletes('completion', '')).toEqual(['bash', 'zsh', 'fish']);
  });

  it('after a flag’s value, completes flags and subcommands again, not the value', async () => {
    expect(await bashCompletes('users', 'list', '--role', 'admin', '--sea')).toEqual(['--search']);
    expect(await bashCompletes('--verbose', 'cli')).toEqual(['clinics']);
  });

  it('completes a command path after help, at any depth', async () => {
    expect(await bashCompletes('help', 'appointments', 'bo')).toEqual(['book']);
    expect(await bashCompletes('doctors', 'help', 'leave', 'r')).toEqual(['remove']);
  });

  it('completes active clinic names from the database, quoted for the shell, and doctors by name or id', async () => {
    expect(await bashCompletes('slots', 'generate', '--clinic', 'Lake')).toEqual(['Lakeside\\ Heart\\ Clinic']);
    // A word inside the name, and a value already opened with a quote.
    expect(await bashCompletes('slots', 'generate', '--clinic', 'hea')).toEqual(['Lakeside\\ Heart\\ Clinic']);
    expect(await bashCompletes('slots', 'generate', '--clinic', '"Lake')).toEqual(['Lakeside Heart Clinic']);
    expect(await bashCompletes('doctors', 'show', String(doctor.id))).toEqual([String(doctor.id)]);
    expect(await bashCompletes('appointments', 'list', '--doctor', doctor.name.slice(0, 6))).toEqual([doctor.name.replace(/ /g, '\\ ')]);
  });

  it('offers no names, and says nothing, when the database cannot be reached', async () => {
    expect(await bashCompletes('slots', 'generate', '--clinic', 'Lake')).toHaveLength(1);
    const offline = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/ascend' };
    const out = await shell(
      'bash',
      ['-c', `source ./ascend.bash; COMP_WORDS=(ascend clinics show L); COMP_CWORD=3; _ascend 2>&1; echo "\${#COMPREPLY[@]}"`],
      offline,
    );
    expect(out).toBe('0\n');
  });
});

describe('ascend __complete', () => {
  it('answers value<TAB>description lines for clinics and doctors whose name or id starts with the text', async () => {
    const clinics = await runCli(['__complete', 'clinics', 'lake'], { env: { DATABASE_URL: db.url } });
    expect(clinics).toMatchObject({ code: 0, stderr: '', stdout: `Lakeside Heart Clinic\tclinic ${lakeside.id}, Bhopal\n` });
    const byId = await runCli(['__complete', 'doctors', String(doctor.id)], { env: { DATABASE_URL: db.url } });
    expect(byId.stdout).toMatch(new RegExp(`^${doctor.id}\\t${doctor.name}, doctor ${doctor.id}, cardiology, Lakeside Heart Clinic\\n`));
  });

  it('prints nothing and succeeds, without starting a database, when none is reachable, and within its deadline', async () => {
    // Readable by the postgres user, so that, as root, ascend would accept it and could start a server there.
    const dataDir = mkdtempSync(join(tmpdir(), 'ascend-test-no-db-'));
    chmodSync(dataDir, 0o755);
    const started = Date.now();
    const results = await Promise.all([
      runCli(['__complete', 'clinics', 'L'], { env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/ascend' } }),
      runCli(['__complete', 'doctors', ''], { env: { DATABASE_URL: undefined, ASCEND_DATA_DIR: dataDir } }),
      runCli(['__complete', 'patients', ''], { env: { DATABASE_URL: db.url } }),
    ]);
    for (const result of results) expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(readdirSync(dataDir)).toEqual([]);
    rmSync(dataDir, { recursive: true, force: true });
  });
});

describe('ascend completion zsh and fish', () => {
  it('zsh: the script parses and registers its function with compinit', async () => {
    await shell('zsh', ['-n', 'ascend.zsh']);
    expect(await shell('zsh', ['-fc', 'autoload -U compinit; compinit -u -D; source ./ascend.zsh; print -r -- $_comps[ascend]'])).toBe('_ascend\n');
  });

  it('fish: the script parses and completes subcommands, flags, a fixed set and clinic names', async () => {
    await shell('fish', ['-n', 'ascend.fish']);
    expect(await fishCompletes('ascend doctors leave ')).toEqual(['add', 'help', 'list', 'remove']);
    expect(await fishCompletes('ascend slots generate --dr')).toEqual(['--dry-run']);
    expect(await fishCompletes('ascend appointments list --status ')).toEqual(['booked', 'cancelled', 'completed', 'no_show']);
    expect(await fishCompletes('ascend users list --role=p')).toEqual(['--role=patient']);
    expect(await fishCompletes('ascend slots generate --clinic Lake')).toEqual(['Lakeside Heart Clinic']);
  });
});
