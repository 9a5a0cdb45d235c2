"""House rules on the shape of the code: no import circles, no module too long to read in one
sitting, and tui/ drawing only — it reaches the herd through the supervisor, never git, tmux or
the journal itself.

The graph is drawn from the source (tests/support/import_graph.py), the same one
bench/structure.py prints, so a failure here names the modules to look at there.
"""

from __future__ import annotations

import ast

from tests.support.import_graph import ROOT, Plan, draw

LONGEST = 700  # lines; a module past this holds more than one noun


def plan() -> Plan:
    return draw()


def test_no_module_imports_itself_back() -> None:
    circles = plan().circles
    assert circles == [], f"import circles: {circles}"


def test_no_module_is_too_long_to_read() -> None:
    long = {name: count for name, count in plan().lines.items() if count > LONGEST}
    assert long == {}, f"modules over {LONGEST} lines: {long}"


def test_tui_draws_and_leaves_git_tmux_and_files_to_the_supervisor() -> None:
    """What tui/ may not import: the processes that git and tmux run in, and sessions' own
    readers of the journal, hook events, notes, worktrees and tmux."""
    banned_stdlib = {"subprocess"}
    banned_own = {
        "sessions.journal",
        "sessions.repo",
        "sessions.tmux",
        "sessions.worktree_git",
        "sessions.worktrees",
    }
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tui").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names: list[str] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.append(node.module)
        bad = sorted(n for n in names if n.split(".")[0] in banned_stdlib or n in banned_own)
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    assert found == {}, f"tui/ modules doing the supervisor's work: {found}"


def test_the_graph_sees_a_circle_and_a_long_module() -> None:
    """The guard itself: a circle and a long module drawn by hand are found."""
    made = Plan(
        edges={"a": frozenset({"b"}), "b": frozenset({"a"}), "c": frozenset({"a"})},
        lines={"a": 10, "b": 10, "c": LONGEST + 1},
    )
    assert made.circles == [["a", "b"]]
    assert made.floors["c"] == made.floors["a"] + 1
