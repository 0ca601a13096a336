// Shell completion scripts for bash, zsh and fish, generated from the commander program tree: every command,
// subcommand and flag as the program defines them (never a list kept by hand), the values of flags with a
// fixed set, and clinic and doctor names from the database through `ascend __complete` (src/cli/commands/
// completion.ts), which answers in one query or not at all.
//
// Each script holds the tree as lookup functions and walks the words before the cursor the same way: a
// subcommand extends the path, a flag that takes a value swallows the next word, anything else is a
// positional argument; `help` (at any level) is followed by command names.
import { type Argument, type CommandUnknownOpts, Help, type Option } from '@commander-js/extra-typings';
import { ROLES } from '../domain/roles.js';
import { weekdayName } from '../domain/time.js';
import { APPOINTMENT_STATUSES, BLOOD_GROUPS } from '../domain/values.js';
import { COMPLETION_SOURCES, type CompletionSource } from '../services/completion.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** What a flag or argument takes: fixed words, names from the database, file names, or free text. */
type Values = { words: readonly string[] } | { source: CompletionSource | 'files' | 'text' };

const weekdays = Array.from({ length: 7 }, (_, i) => weekdayName(i + 1));

/**
 * The values of flags, by flag, or by command path and flag where one differs: the one place they are attached
 * to the tree. Commander's `.choices()` would have the flags parsed and refused in commander's words rather
 * than the services' (which also take `no-show` for `no_show`), so the sets are named here, from the domain's
 * own lists; a `.choices()` on an option or argument is read too, and wins.
 */
const FLAG_VALUES: Readonly<Record<string, Values>> = {
  '--role': { words: ROLES },
  '--status': { words: APPOINTMENT_STATUSES },
  '--blood-group': { words: BLOOD_GROUPS },
  '--days': { words: ['mon-fri', 'sat-sun', 'all', ...weekdays] },
  '--timezone': { words: Intl.supportedValuesOf('timeZone') },
  '--format': { words: ['csv', 'json'] },
  '--clinic': { source: 'clinics' },
  '--doctor': { source: 'doctors' },
};

/** A positional argument's values: its choices, a file, or the clinic or doctor the clinics and doctors commands act on. */
function argumentValues(path: readonly string[], arg: Argument): Values | undefined {
  if (arg.argChoices) return { words: arg.argChoices };
  const name = arg.name();
  if (name === 'file') return { source: 'files' };
  const noun = name === 'id' ? path[0] : `${name}s`;
  return COMPLETION_SOURCES.find((source) => source === noun) ? { source: noun as CompletionSource } : undefined;
}

interface FlagSpec {
  names: string[];
  description: string;
  values?: Values;
}

interface Node {
  /** Subcommand names from the top, joined by spaces: '' is the program itself. */
  path: string;
  subcommands: { name: string; description: string }[];
  flags: FlagSpec[];
  /** Positional arguments, in order. */
  args: (Values | undefined)[];
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

function flagSpec(option: Option, path: readonly string[]): FlagSpec {
  const names = [option.short, option.long].filter((n): n is string => Boolean(n));
  const takesValue = option.required || option.optional;
  const values = option.argChoices
    ? { words: option.argChoices }
    : (FLAG_VALUES[`${path.join(' ')} ${option.long}`] ?? FLAG_VALUES[option.long ?? ''] ?? { source: 'text' as const });
  return { names, description: oneLine(option.description), ...(takesValue ? { values } : {}) };
}

/** The program tree as completion sees it: visible commands, each with its own flags and those of its ancestors. */
export function completionTree(program: CommandUnknownOpts): Node[] {
  const help = new Help();
  const nodes: Node[] = [];
  const walk = (cmd: CommandUnknownOpts, path: string[], inherited: FlagSpec[]) => {
    const own = help.visibleOptions(cmd).map((o) => flagSpec(o, path));
    // Commander reads an ancestor's flags after a subcommand too; --help and --version belong to their own command.
    const passedOn = [...inherited, ...own.filter((f) => !f.names.includes('--help') && !f.names.includes('--version'))];
    const subs = help.visibleCommands(cmd);
    nodes.push({
      path: path.join(' '),
      subcommands: subs.map((s) => ({ name: s.name(), description: oneLine(help.subcommandDescription(s)) })),
      flags: [...own, ...inherited],
      args: cmd.registeredArguments.map((a) => argumentValues(path, a)),
    });
    for (const sub of subs) walk(sub, [...path, sub.name()], passedOn);
  };
  walk(program, [], []);
  return nodes;
}

// ---------------------------------------------------------------------------------------------------------
// The lookups every script carries: keys `PATH|FLAG` (a flag's values) and `PATH|N` (the Nth argument's).

/** What a value lookup answers: words separated by spaces, or @clinics, @doctors, @files, @text. */
const valueText = (values: Values) => ('words' in values ? values.words.join(' ') : `@${values.source}`);

/** Every flag and argument that takes a value, grouped by what it takes (time zones are listed once). */
function valueArms(nodes: Node[]): { keys: string[]; text: string }[] {
  const byText = new Map<string, string[]>();
  const add = (key: string, values: Values | undefined) => {
    if (!values) return;
    const text = valueText(values);
    byText.set(text, [...(byText.get(text) ?? []), key]);
  };
  for (const node of nodes) {
    for (const flag of node.flags) for (const name of flag.names) add(`${node.path}|${name}`, flag.values);
    for (const [i, values] of node.args.entries()) add(`${node.path}|${i + 1}`, values);
  }
  return [...byText].map(([text, keys]) => ({ keys, text }));
}

/** Single-quoted for bash and zsh. */
const sq = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
/** Single-quoted for fish, which takes \\ and \' inside single quotes. */
const fq = (text: string) => `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`;
/** A zsh _describe item: `name:description`, a colon in the name escaped. */
const describeItem = (name: string, description: string) => `${name.replace(/:/g, '\\:')}:${description}`;

/** A `case` statement (bash and zsh) setting `variable` from the arms, empty otherwise. */
function caseLookup(name: string, variable: string, arms: { keys: string[]; value: string }[], why: string): string {
  const lines = arms.map((arm) => `    ${arm.keys.map(sq).join('|')}) ${variable}=${arm.value} ;;`);
  return `# ${why}\n${name}() {\n  case $1 in\n${lines.join('\n')}\n    *) ${variable}=${variable === 'reply' ? '()' : "''"} ;;\n  esac\n}`;
}

/** A fish `switch` printing the arms' lines. */
function switchLookup(name: string, arms: { keys: string[]; lines: string[] }[], why: string): string {
  const body = arms
    .filter((arm) => arm.lines.length)
    .map((arm) => `    case ${arm.keys.map(fq).join(' ')}\n        printf '%s\\n' ${arm.lines.map(fq).join(' ')}`);
  return `# ${why}\nfunction ${name}\n    switch $argv[1]\n${body.join('\n')}\n    end\nend`;
}

const header = (shell: Shell, version: string, load: string) =>
  `# ascend ${version}: tab completion for ${shell}, generated by \`ascend completion ${shell}\` from the program's commands.\n# ${load}\n`;

export function completionScript(shell: Shell, program: CommandUnknownOpts, version: string): string {
  const nodes = completionTree(program);
  if (shell === 'bash') return bashScript(nodes, version);
  if (shell === 'zsh') return zshScript(nodes, version);
  return fishScript(nodes, version);
}

function bashScript(nodes: Node[], version: string): string {
  const withSubs = nodes.filter((n) => n.subcommands.length);
  return `${header('bash', version, 'Load it with: source <(ascend completion bash)   (that line in ~/.bashrc keeps it)')}
${caseLookup(
  '_ascend_subcommands_of',
  'REPLY',
  withSubs.map((n) => ({ keys: [n.path], value: sq(n.subcommands.map((s) => s.name).join(' ')) })),
  'The subcommands of a command path.',
)}

${caseLookup(
  '_ascend_flags_of',
  'REPLY',
  nodes.map((n) => ({ keys: [n.path], value: sq(n.flags.flatMap((f) => f.names).join(' ')) })),
  'The flags a command path takes, its ancestors’ included.',
)}

${caseLookup(
  '_ascend_values_of',
  'REPLY',
  valueArms(nodes).map((arm) => ({ keys: arm.keys, value: sq(arm.text) })),
  'What PATH|FLAG or PATH|N (an argument) takes: words, @clinics, @doctors, @files or @text; empty for none.',
)}

# Completes "$cur" from what _ascend_values_of answered.
_ascend_complete_values() {
  local line prefix
  case $1 in
    @files) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
    @text) ;;
    @clinics | @doctors)
      local IFS=$'\\n'
      prefix=\${cur//\\\\/}
      prefix=\${prefix#[\\"\\']}
      for line in $("\${COMP_WORDS[0]}" __complete "\${1#@}" "$prefix" 2>/dev/null); do
        line=\${line%%$'\\t'*}
        if [[ $cur == [\\"\\']* ]]; then COMPREPLY+=("$line"); else COMPREPLY+=("$(printf '%q' "$line")"); fi
      done ;;
    *) COMPREPLY=($(compgen -W "$1" -- "$cur")) ;;
  esac
}

_ascend() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmdpath='' flag='' helping='' word i arg=0 REPLY
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    [[ $word == = ]] && continue
    if [[ -n $flag ]]; then flag=''; continue; fi
    case $word in
      -*) _ascend_values_of "$cmdpath|$word"; [[ -n $REPLY ]] && flag=$word ;;
      *)
        _ascend_subcommands_of "$cmdpath"
        if [[ " $REPLY " == *" $word "* ]]; then
          if [[ $word == help ]]; then helping=1; else cmdpath=\${cmdpath:+$cmdpath }$word; arg=0; fi
        else
          ((arg++))
        fi ;;
    esac
  done
  # --flag=value: split at the = by the shell (COMP_WORDBREAKS), or one word when = is not a break there.
  if [[ $cur == = ]]; then cur=''; fi
  if [[ -n $flag ]]; then
    _ascend_values_of "$cmdpath|$flag"
    _ascend_complete_values "$REPLY"
    return
  fi
  if [[ $cur == --*=* ]]; then
    flag=\${cur%%=*}
    cur=\${cur#*=}
    _ascend_values_of "$cmdpath|$flag"
    _ascend_complete_values "$REPLY"
    COMPREPLY=("\${COMPREPLY[@]/#/$flag=}")
    return
  fi
  if [[ $cur != -* ]]; then
    _ascend_subcommands_of "$cmdpath"
    if [[ -n $REPLY || -n $helping ]]; then
      COMPREPLY=($(compgen -W "$REPLY" -- "$cur"))
      return
    fi
    _ascend_values_of "$cmdpath|$((arg + 1))"
    if [[ -n $REPLY ]]; then
      _ascend_complete_values "$REPLY"
      return
    fi
  fi
  _ascend_flags_of "$cmdpath"
  COMPREPLY=($(compgen -W "$REPLY" -- "$cur"))
}

complete -F _ascend ascend
`;
}

function zshScript(nodes: Node[], version: string): string {
  const withSubs = nodes.filter((n) => n.subcommands.length);
  const array = (items: string[]) => `(${items.map(sq).join(' ')})`;
  return `#compdef ascend
${header('zsh', version, 'Load it with: source <(ascend completion zsh)   (in ~/.zshrc after compinit), or save it as _ascend in your $fpath')}
${caseLookup(
  '_ascend_subcommands_of',
  'reply',
  withSubs.map((n) => ({ keys: [n.path], value: array(n.subcommands.map((s) => describeItem(s.name, s.description))) })),
  'The subcommands of a command path, as name:description.',
)}

${caseLookup(
  '_ascend_flags_of',
  'reply',
  nodes.map((n) => ({ keys: [n.path], value: array(n.flags.flatMap((f) => f.names.map((name) => describeItem(name, f.description)))) })),
  'The flags a command path takes, its ancestors’ included, as name:description.',
)}

${caseLookup(
  '_ascend_values_of',
  'reply',
  valueArms(nodes).map((arm) => ({ keys: arm.keys, value: array(arm.text.split(' ')) })),
  'What PATH|FLAG or PATH|N (an argument) takes: words, @clinics, @doctors, @files or @text; empty for none.',
)}

# Completes the current word from what _ascend_values_of answered.
_ascend_complete_values() {
  local -a items
  local line
  case $1 in
    @files) _files ;;
    @text) ;;
    @clinics | @doctors)
      for line in \${(f)"$(\${words[1]} __complete \${1#@} "\${(Q)PREFIX}" 2>/dev/null)"}; do
        items+=("\${\${line%%$'\\t'*}//:/\\\\:}:\${line#*$'\\t'}")
      done
      _describe -t \${1#@} \${1#@} items ;;
    *) compadd -a reply ;;
  esac
}

_ascend() {
  local cmdpath='' flag='' helping='' word i arg=0
  local -a reply
  for ((i = 2; i < CURRENT; i++)); do
    word=\${words[i]}
    if [[ -n $flag ]]; then flag=''; continue; fi
    case $word in
      --*=*) ;;
      -*) _ascend_values_of "$cmdpath|$word"; (( $#reply )) && flag=$word ;;
      *)
        _ascend_subcommands_of "$cmdpath"
        if (( \${reply[(I)$word:*]} )); then
          if [[ $word == help ]]; then helping=1; else cmdpath=\${cmdpath:+$cmdpath }$word; arg=0; fi
        else
          (( arg++ ))
        fi ;;
    esac
  done
  if [[ -z $flag && $PREFIX == --*=* ]]; then
    flag=\${PREFIX%%=*}
    compset -P '*='
  fi
  if [[ -n $flag ]]; then
    _ascend_values_of "$cmdpath|$flag"
    _ascend_complete_values "$reply[1]"
    return
  fi
  if [[ $PREFIX != -* ]]; then
    _ascend_subcommands_of "$cmdpath"
    if (( $#reply )) || [[ -n $helping ]]; then
      _describe -t commands command reply
      return
    fi
    _ascend_values_of "$cmdpath|$((arg + 1))"
    if (( $#reply )); then
      _ascend_complete_values "$reply[1]"
      return
    fi
  fi
  _ascend_flags_of "$cmdpath"
  _describe -t options flag reply
}

if [[ $funcstack[1] == _ascend ]]; then
  _ascend "$@"
else
  compdef _ascend ascend
fi
`;
}

function fishScript(nodes: Node[], version: string): string {
  const withSubs = nodes.filter((n) => n.subcommands.length);
  return `${header('fish', version, 'Load it with: ascend completion fish > ~/.config/fish/completions/ascend.fish')}
${switchLookup(
  '__ascend_subcommands_of',
  withSubs.map((n) => ({ keys: [n.path], lines: n.subcommands.map((s) => `${s.name}\t${s.description}`) })),
  'The subcommands of a command path, as name<tab>description.',
)}

${switchLookup(
  '__ascend_flags_of',
  nodes.map((n) => ({ keys: [n.path], lines: n.flags.flatMap((f) => f.names.map((name) => `${name}\t${f.description}`)) })),
  'The flags a command path takes, its ancestors’ included, as name<tab>description.',
)}

${switchLookup(
  '__ascend_values_of',
  valueArms(nodes).map((arm) => ({ keys: arm.keys, lines: arm.text.split(' ') })),
  'What PATH|FLAG or PATH|N (an argument) takes: words, @clinics, @doctors, @files or @text; nothing for none.',
)}

# Candidates for the current token from what __ascend_values_of answered; \`prefix\` goes before each (--flag=).
function __ascend_complete_values
    set -l prefix $argv[1]
    set -l cur $argv[2]
    set -l values $argv[3..-1]
    switch "$values[1]"
        case @files
            __fish_complete_path $cur
        case @text
        case @clinics @doctors
            for line in (command ascend __complete (string sub -s 2 -- $values[1]) $cur 2>/dev/null)
                echo $prefix$line
            end
        case '*'
            printf "$prefix%s\\n" $values
    end
end

function __ascend_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l cmdpath ''
    set -l flag ''
    set -l helping ''
    set -l arg 0
    for word in $tokens[2..-1]
        if test -n "$flag"
            set flag ''
            continue
        end
        switch $word
            case '--*=*'
            case '-*'
                if test (count (__ascend_values_of "$cmdpath|$word")) -gt 0
                    set flag $word
                end
            case '*'
                if contains -- $word (__ascend_subcommands_of "$cmdpath" | string replace -r '\\t.*' '')
                    if test $word = help
                        set helping 1
                    else
                        set cmdpath (string trim -- "$cmdpath $word")
                        set arg 0
                    end
                else
                    set arg (math $arg + 1)
                end
        end
    end
    if test -n "$flag"
        __ascend_complete_values '' $cur (__ascend_values_of "$cmdpath|$flag")
        return
    end
    if string match -q -- '--*=*' $cur
        set -l parts (string split -m 1 = -- $cur)
        __ascend_complete_values "$parts[1]=" $parts[2] (__ascend_values_of "$cmdpath|$parts[1]")
        return
    end
    if not string match -q -- '-*' $cur
        set -l subs (__ascend_subcommands_of "$cmdpath")
        if test (count $subs) -gt 0; or test -n "$helping"
            printf '%s\\n' $subs
            return
        end
        set -l values (__ascend_values_of "$cmdpath|"(math $arg + 1))
        if test (count $values) -gt 0
            __ascend_complete_values '' $cur $values
            return
        end
    end
    __ascend_flags_of "$cmdpath"
end

complete -c ascend -f -a '(__ascend_complete)'
`;
}
