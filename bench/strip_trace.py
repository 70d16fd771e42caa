"""Make a copy of a tree whose rules give no facts: the A side of the trace's cost (issue 11).

    git worktree add --detach /tmp/notrace HEAD
    python bench/strip_trace.py /tmp/notrace
    python bench/ab.py --a /tmp/notrace --b . --claims 30000 --instructions

Rewrites ``teleproc/adjudicate/rules/*.py`` and ``teleproc/adjudicate/engine.py`` of TREE in
place (AST: formatting and comments are lost, so never run it on a checkout you keep): the facts
argument of every ``why``/``fail``/``adjust`` call and of ``trace.entry`` becomes ``None``. The
decisions, codes and return file are unchanged (the tags stay); only the facts are gone.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

FACTS_AT = {"why": 1, "fail": 2, "adjust": 2, "entry": 2}    # position of the facts argument


class _DropFacts(ast.NodeTransformer):
    def __init__(self) -> None:
        self.dropped = 0

    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr in FACTS_AT:
            i = FACTS_AT[f.attr]
            if len(node.args) > i:
                node.args[i] = ast.Constant(None)
                self.dropped += 1
            node.keywords = [k for k in node.keywords if k.arg != "facts"]
        return node


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or not (Path(argv[0]) / "teleproc" / "adjudicate").is_dir():
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(argv[0]) / "teleproc" / "adjudicate"
    total = 0
    for p in sorted(root.glob("rules/*.py")) + [root / "engine.py"]:
        t = _DropFacts()
        tree = t.visit(ast.parse(p.read_text()))
        p.write_text(ast.unparse(ast.fix_missing_locations(tree)) + "\n")
        total += t.dropped
    print(f"{root}: {total} facts arguments replaced by None")
    return 0


if __name__ == "__main__":
    sys.exit(main())
