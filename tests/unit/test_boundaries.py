"""House rules on imports: sessions/ never imports textual or rich, and what every command
loads leaves the heavy libraries out."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import sessions


def test_sessions_imports_neither_textual_nor_rich() -> None:
    modules = [
        info.name
        for info in pkgutil.walk_packages(sessions.__path__, prefix="sessions.")
        if not info.name.endswith("__main__")
    ]
    assert "sessions.supervisor" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_what_corral_ls_loads_leaves_the_heavy_libraries_out() -> None:
    """`corral ls` and every other command load the supervisor; the SDK, libtmux, Textual,
    tomlkit and psutil cost start-up time a script polling `ls` pays on every call, so only the
    paths that use them import them."""
    code = (
        "import sys\n"
        "import sessions.supervisor, tui.cli\n"
        "heavy = ('anthropic', 'libtmux', 'textual', 'rich', 'tomlkit', 'psutil')\n"
        "print(','.join(sorted({m.split('.')[0] for m in sys.modules} & set(heavy))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_reading_corral_toml_loads_no_service() -> None:
    """The config reader and the values it builds stand on the ground floor: reading
    corral.toml must not load the coordinator, the lock survey, the notes tracker, the
    journal or git's worktrees, which would stand a value on the services made of it."""
    code = (
        "import sys\n"
        "import sessions.adapters.config, sessions.core.model\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('sessions.'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = set(result.stdout.strip().split(","))
    services = {
        "sessions.services.coordination",
        "sessions.services.conflicts",
        "sessions.services.locks",
        "sessions.services.notes",
        "sessions.hook",
        "sessions.adapters.journal",
        "sessions.services.worktrees",
        "sessions.adapters.repo",
    }
    assert loaded & services == set()


def test_what_only_the_dashboard_or_one_action_needs_waits_until_it_is_used() -> None:
    """Each module `corral ls` loads costs its start-up about half a millisecond and more; the
    dashboard's reads (notes text, diffs, history) and the actions that are not a look (typing
    into an agent, attaching, releasing a lock) load theirs when first used. So do the notes
    tracker, summaries' briefs, making, saving, removing and merging worktrees, a thread pool
    for `up`, and the standard library's parts only a rare case needs (an RFC 2822 date in a
    lock, a misspelt key in corral.toml, a temporary file: `tempfile` loads `random`)."""
    waiting = (
        "sessions.adapters.note_texts",
        "sessions.adapters.worktree_diff",
        "sessions.services.history",
        "sessions.commands.input_box",
        "sessions.commands.attach",
        "sessions.services.lock_release",
        "sessions.services.notes",
        "sessions.core.note_changes",
        "sessions.core.note_markdown",
        "sessions.services.briefs",
        "sessions.core.redact",
        "sessions.core.summary_values",
        "sessions.services.saved_work",
        "sessions.services.worktree_half_made",
        "sessions.services.worktree_removal",
        "sessions.services.worktree_merge",
        "sessions.core.worktree_values",
        "concurrent.futures",
        "email.utils",
        "difflib",
        "tempfile",
        "secrets",
        "random",
    )
    code = (
        "import sys\n"
        "import sessions.supervisor, tui.cli\n"
        f"print(','.join(sorted(set({waiting!r}) & set(sys.modules))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_a_runner_lives_without_psutil() -> None:
    """One runner lives in every pane as long as its agent; psutil would cost each of them
    memory (and start-up) for what /proc answers directly."""
    code = "import sys\nimport sessions.runner\nprint('psutil' in sys.modules)\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_a_runner_loads_none_of_what_only_the_herd_or_a_rare_path_needs() -> None:
    """Every pane holds a runner for as long as its agent lives, so each module it loads is
    paid once per agent: the herd's values (and `typing`, `shlex` with them), `uuid` for one id a
    run, `secrets` and `hashlib` for a temporary name and a checkpoint it never writes. Counted
    from what importing the runner adds, whatever the interpreter's start-up loaded before."""
    never = (
        "psutil",
        "typing",
        "uuid",
        "secrets",
        "random",
        "hashlib",
        "shlex",
        "watchfiles",
        "sessions.core.model",
        "sessions.core.events",
        "sessions.agents.kind",
    )
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import sessions.runner\n"
        f"print(','.join(sorted((set(sys.modules) - before) & set({never!r}))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-P", "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
