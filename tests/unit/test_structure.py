"""House rules on the shape of the code: no import circles, no module too long to read in one
sitting, every import running down the floors of sessions/, and tui/ drawing only — it reaches
the herd through the supervisor, never git, tmux or the journal itself.

The graph is drawn from the source (tests/support/import_graph.py), the same one
bench/structure.py prints, so a failure here names the modules to look at there.
"""

from __future__ import annotations

import ast

from tests.support.import_graph import ROOT, Plan, draw, floor, running_up

HANDS_ON_THE_HERD = {
    "sessions.adapters.feed",
    "sessions.adapters.journal",
    "sessions.adapters.private",
    "sessions.adapters.processes",
    "sessions.adapters.repo",
    "sessions.adapters.tmux",
    "sessions.adapters.worktree_git",
}
ALLOWED = {
    "cli.py": ("subprocess", "sessions.adapters.journal", "sessions.adapters.repo"),
    "app.py": ("subprocess",),
    "notify.py": ("subprocess",),
}
LONGEST = 700  # lines; a module past this holds more than one noun


def plan() -> Plan:
    return draw()


def test_no_module_imports_itself_back() -> None:
    circles = plan().circles
    assert circles == [], f"import circles: {circles}"


def test_no_module_is_too_long_to_read() -> None:
    long = {name: count for name, count in plan().lines.items() if count > LONGEST}
    assert long == {}, f"modules over {LONGEST} lines: {long}"


def test_every_import_runs_down_the_floors() -> None:
    upward = running_up(plan())
    assert upward == [], f"imports running up a floor: {upward}"


def test_the_floors_are_where_the_plan_says() -> None:
    assert floor("sessions.core.model") < floor("sessions.adapters.journal")
    assert floor("sessions.adapters.journal") < floor("sessions.agents.kind")
    assert floor("sessions.hook") == floor("sessions.agents.kind")
    assert floor("sessions.agents.kind") < floor("sessions.services.observer")
    assert floor("sessions.services.observer") < floor("sessions.commands.init")
    assert floor("sessions.commands.init") < floor("sessions.supervisor") < floor("tui.app")


def test_tui_draws_and_leaves_git_tmux_and_files_to_the_supervisor() -> None:
    """tui/ reaches the herd through the supervisor: it runs no process of its own and never
    holds sessions' hands on the herd (tmux, git, the process table, the journal and its feed,
    corral's private files). Two places are the plan's exceptions: the command line (`corral log`,
    `init` and `attach` work without a herd to ask), and handing the user's terminal to tmux
    (attach) or to the desktop (notifications)."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tui").rglob("*.py")):
        names: list[str] = []
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.append(node.module)
        allowed = ALLOWED.get(path.name, ())
        bad = sorted(
            n
            for n in names
            if (n == "subprocess" or n in HANDS_ON_THE_HERD) and not n.startswith(allowed)
        )
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
