// A progress bar for long bulk work, only for a person at a terminal (never with --json, in a pipe or in CI).
import type { Ctx } from './command.js';

export async function progressBar(ctx: Ctx, label: string): Promise<{ update: (done: number, total: number) => void; stop: () => void } | undefined> {
  if (ctx.json || !process.stderr.isTTY || !process.stdout.isTTY || process.env.CI === 'true') return undefined;
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% {value}/{total}`, stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    },
    stop: () => started && bar.stop(),
  };
}
