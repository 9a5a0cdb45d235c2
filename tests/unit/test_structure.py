"""House rules on the shape of the code: no import circles, no module too long to read in one
sitting, every import running down the floors of sessions/, and tui/ drawing only — it reaches
the herd through the supervisor, never git, tmux or the journal itself.

The graph is drawn from the source (tests/support/import_graph.py), the same one
bench/structure.py prints, so a failure here names the modules to look at there.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.import_graph import ROOT, Plan, draw, floor, running_up

# What tui/ may import from sessions/ besides its values (sessions.core) and the supervisor,
# file by file; a module named here allows the modules under it too.
BEYOND_THE_SUPERVISOR = {
    # The command line: `corral log` reads the journal and `init` the repository with no herd
    # to ask, and the other commands (init, demo, doctor, attach) are its to run.
    "tui/cli.py": (
        "subprocess",
        "sessions.adapters.journal",
        "sessions.adapters.repo",
        "sessions.commands",
    ),
    # Handing the user's terminal to tmux (attach); the app keeps the alerts' memory of what it
    # has told, and reads the user's own settings file, which is not the herd's.
    "tui/app.py": ("subprocess", "sessions.services.alerts", "sessions.adapters.user_settings"),
    # Handing a notification to the desktop.
    "tui/notify.py": ("subprocess",),
    # The user's own settings file: its path, its checks and its atomic write.
    "tui/themes.py": (
        "sessions.adapters.user_settings",
        "sessions.adapters.toml_check",
        "sessions.adapters.atomic",
    ),
    # The summarizer the supervisor makes, made lazily (the anthropic SDK is slow to import);
    # the protocol only names its type.
    "tui/summaries.py": ("sessions.services.summaries",),
    "tui/herd.py": ("sessions.services.summaries",),
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


def test_no_benchmark_is_too_long_to_read() -> None:
    """Benchmarks are read to trust their numbers: the same limit holds for them."""
    bench = Path(__file__).resolve().parents[2] / "bench"
    counts = {path.name: len(path.read_text().splitlines()) for path in bench.glob("*.py")}
    long = {name: count for name, count in counts.items() if count > LONGEST}
    assert long == {}, f"benchmarks over {LONGEST} lines: {long}"


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
    """tui/ reaches the herd through the supervisor and draws values: from sessions/ it imports
    only the ground floor (sessions.core) and the supervisor, and runs no process of its own.
    `BEYOND_THE_SUPERVISOR` names the few places that do more, and why."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tui").rglob("*.py")):
        where = path.relative_to(ROOT).as_posix()
        allowed = BEYOND_THE_SUPERVISOR.get(where, ())
        bad = sorted(name for name in imported(path) if not allowed_in_tui(name, allowed))
        if bad:
            found[where] = bad
    assert found == {}, f"tui/ modules doing the supervisor's work: {found}"


def imported(path: Path) -> list[str]:
    """Every module a file imports, wherever the import stands (a function, TYPE_CHECKING)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def allowed_in_tui(name: str, allowed: tuple[str, ...]) -> bool:
    def under(module: str) -> bool:
        return name == module or name.startswith(f"{module}.")

    if any(under(module) for module in allowed):
        return True
    if name == "subprocess":
        return False
    if under("sessions"):
        return under("sessions.core") or name == "sessions.supervisor"
    return True


def test_the_tui_rule_sees_a_reach_past_the_supervisor() -> None:
    """The guard itself: an adapter, a service, a command and a process are caught; values and
    the supervisor pass, and an exception covers what it names and nothing more."""
    assert not allowed_in_tui("sessions.adapters.tmux", ())
    assert not allowed_in_tui("sessions.services.history", ())
    assert not allowed_in_tui("sessions.commands.attach", ())
    assert not allowed_in_tui("sessions", ())
    assert not allowed_in_tui("subprocess", ())
    assert allowed_in_tui("sessions.core.model", ())
    assert allowed_in_tui("sessions.supervisor", ())
    assert allowed_in_tui("textual.app", ())
    assert allowed_in_tui("sessions.commands.init", ("sessions.commands",))
    assert not allowed_in_tui("sessions.commandsx", ("sessions.commands",))


def test_the_graph_sees_a_circle_and_a_long_module() -> None:
    """The guard itself: a circle and a long module drawn by hand are found."""
    made = Plan(
        edges={"a": frozenset({"b"}), "b": frozenset({"a"}), "c": frozenset({"a"})},
        lines={"a": 10, "b": 10, "c": LONGEST + 1},
    )
    assert made.circles == [["a", "b"]]
    assert made.floors["c"] == made.floors["a"] + 1
