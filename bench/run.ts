// `npm run bench`: every speed figure of ascend beside its baseline, measured in this one run on this machine.
// Pick sections by name: `npm run bench -- startup`.
import { cpus } from 'node:os';
import { benchStartup } from './startup.js';
import type { Row } from './support.js';

const sections: Record<string, () => Promise<Row[]>> = {
  startup: benchStartup,
};

const wanted = process.argv.slice(2);
const chosen = wanted.length ? wanted : Object.keys(sections);
for (const name of chosen) if (!sections[name]) throw new Error(`unknown bench section ${name}; known: ${Object.keys(sections).join(', ')}`);

console.log(`ascend bench — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString()}`);
const missed: string[] = [];
for (const name of chosen) {
  const rows = await sections[name]!();
  missed.push(...rows.filter((r) => !r.ok).map((r) => r.figure));
}
console.log(missed.length ? `\nMissed targets: ${missed.join('; ')}` : '\nAll targets met.');
