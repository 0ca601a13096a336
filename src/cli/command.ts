// The glue between commander and the command handlers: every action runs through `act`, which gathers
// the global flags and remembers how the command's fields map to flags for error messages. Commands are built
// with @commander-js/extra-typings, which infers each command's options and arguments from its `.option()` and
// `.argument()` calls: a handler gets them typed (`opts.slot` is the number its parser returns, `opts.reason`
// a string or undefined), so a flag renamed in one place and not the other no longer compiles.
import type { CommandUnknownOpts, OptionValues } from '@commander-js/extra-typings';
import { type Untrusted, untrusted } from '../domain/validation.js';
import type { FieldFlags } from './errors.js';
import { type OutputOptions, withOutput } from './output.js';

export interface Ctx extends OutputOptions {
  verbose: boolean;
}

let currentFlags: FieldFlags = {};
export const activeFieldFlags = (): FieldFlags => currentFlags;

type Handler<Opts extends OptionValues, Args extends unknown[]> = (ctx: Ctx, opts: Opts, ...args: Args) => Promise<void>;

/**
 * An action for `.action(act(handler))`: commander calls it with the command's arguments, its options and the
 * command itself, all typed from the command's definition (the call's expected type tells TypeScript which).
 */
export function act<Opts extends OptionValues, Args extends unknown[]>(handler: Handler<Opts, Args>, fieldFlags: FieldFlags = {}) {
  return async (...all: [...Args, Opts, CommandUnknownOpts]): Promise<void> => {
    // Commander passes the arguments, then the options, then the command: split them back apart.
    const cmd = all[all.length - 1] as CommandUnknownOpts;
    const opts = all[all.length - 2] as Opts;
    const args = all.slice(0, -2) as Args;
    const globals = cmd.optsWithGlobals();
    currentFlags = fieldFlags;
    const json = Boolean(globals.json);
    // A pager for long output on a terminal, unless --json or --no-pager (commander's `pager: false`).
    await withOutput({ page: !json && globals.pager !== false }, () => handler({ json, verbose: Boolean(globals.verbose) }, opts, ...args));
  };
}

/**
 * A service input whose fields are flag text the service must judge: free text for a closed set (a role, a
 * blood group, a status) that no flag parser checks, so that the service's schema refuses it in the words it
 * uses for every other field. The fields are still checked by name against the input `T`.
 */
export function toParse<T>(fields: { [K in keyof T]?: unknown }): Untrusted {
  return untrusted(fields);
}

/** Drops undefined entries, so a service sees only the flags the user gave. */
export function given<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}
