// The glue between commander and the command handlers: every action runs through `act`, which gathers
// the global flags and remembers how the command's fields map to flags for error messages.
import type { Command } from 'commander';
import type { FieldFlags } from './errors.js';
import type { OutputOptions } from './output.js';

export interface Ctx extends OutputOptions {
  verbose: boolean;
}

let currentFlags: FieldFlags = {};
export const activeFieldFlags = (): FieldFlags => currentFlags;

// biome-ignore lint/suspicious/noExplicitAny: until each command has its own typed options (issue [2/7] item 7)
type Handler<A extends unknown[]> = (ctx: Ctx, opts: Record<string, any>, ...args: A) => Promise<void>;

export function act<A extends unknown[]>(handler: Handler<A>, fieldFlags: FieldFlags = {}) {
  return async (...all: unknown[]): Promise<void> => {
    const cmd = all.at(-1) as Command;
    const args = all.slice(0, -2) as A;
    const globals = cmd.optsWithGlobals();
    currentFlags = fieldFlags;
    await handler({ json: Boolean(globals.json), verbose: Boolean(globals.verbose) }, cmd.opts(), ...args);
  };
}

/** Drops undefined entries, so a service sees only the flags the user gave. */
export function given<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}
