"""``teleproc completion bash|zsh|fish``: a shell completion script made from the parser itself
(every subcommand, its options and their choices), so it never falls behind the commands.

    source <(teleproc completion bash)        # or put the output in your completion folder
"""
from __future__ import annotations

import argparse
import sys

SHELLS = ("bash", "zsh", "fish")


def _options(p: argparse.ArgumentParser) -> dict[str, tuple[str, ...]]:
    """Option string -> its choices (empty: a free value or a flag); hidden options left out."""
    out: dict[str, tuple[str, ...]] = {}
    for a in p._actions:
        if a.help == argparse.SUPPRESS:
            continue
        for s in a.option_strings:
            if s.startswith("--"):
                out[s] = tuple(str(c) for c in a.choices) if a.choices else ()
    return out


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sorted(sub.choices.items()))


def bash(parser: argparse.ArgumentParser) -> str:
    cmds = _commands(parser)
    cases = []
    for name, p in cmds.items():
        opts = _options(p)
        choice_cases = "".join(f"        {o}) COMPREPLY=( $(compgen -W \"{' '.join(c)}\" -- \"$cur\") ); return ;;\n"
                               for o, c in opts.items() if c)
        cases.append(f"    {name})\n      case \"$prev\" in\n{choice_cases}      esac\n"
                     f"      COMPREPLY=( $(compgen -W \"{' '.join(opts)}\" -- \"$cur\") ) ;;\n")
    top = " ".join([*cmds, *_options(parser)])
    return f'''# teleproc completion for bash: source <(teleproc completion bash)
_teleproc() {{
  local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}" cmd="" w
  for w in "${{COMP_WORDS[@]:1:COMP_CWORD-1}}"; do
    case " {' '.join(cmds)} " in *" $w "*) cmd="$w"; break ;; esac
  done
  COMPREPLY=()
  case "$cmd" in
    "") COMPREPLY=( $(compgen -W "{top}" -- "$cur") ) ;;
{''.join(cases)}  esac
}}
complete -o default -o bashdefault -F _teleproc teleproc
'''


def zsh(parser: argparse.ArgumentParser) -> str:
    return ("#compdef teleproc\n# teleproc completion for zsh: source <(teleproc completion zsh)\n"
            "autoload -U +X bashcompinit && bashcompinit\n" + bash(parser))


def fish(parser: argparse.ArgumentParser) -> str:
    cmds = _commands(parser)
    lines = ["# teleproc completion for fish: teleproc completion fish | source",
             "complete -c teleproc -f",
             f"complete -c teleproc -n '__fish_use_subcommand' -a '{' '.join(cmds)}'"]
    for o, c in _options(parser).items():
        lines.append(f"complete -c teleproc -n '__fish_use_subcommand' -l {o[2:]}"
                     + (f" -xa '{' '.join(c)}'" if c else ""))
    for name, p in cmds.items():
        for o, c in _options(p).items():
            lines.append(f"complete -c teleproc -n '__fish_seen_subcommand_from {name}' -l {o[2:]}"
                         + (f" -xa '{' '.join(c)}'" if c else " -F"))
    return "\n".join(lines) + "\n"


def cmd_completion(args: argparse.Namespace) -> int:
    from .cli import build_parser
    sys.stdout.write({"bash": bash, "zsh": zsh, "fish": fish}[args.shell](build_parser()))
    return 0


def register(sub) -> None:  # type: ignore[no-untyped-def]
    c = sub.add_parser("completion", help="print a shell completion script (bash, zsh or fish)")
    c.add_argument("shell", choices=SHELLS)
    c.set_defaults(func=cmd_completion)
