"""Hooks installed before launch, in real git worktrees, and the events they produce.

Claude Code's settings and trust are checked file by file (merge, idempotence, backups, a
locked or broken ~/.claude.json, `git status` staying clean), and so are Gemini's workspace
settings and trusted folders; Codex's `-c notify` and Aider's notifications command are checked
as their CLIs will read them. Then
the events arrive for real: from the simulated agent under corral's runner, and, where it can
be installed, from the real Claude Code CLI against the Messages API stand-in.
"""

from __future__ import annotations

import itertools
import json
import os
import shlex
import stat
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sessions.adapters.repo import Repo
from sessions.agents import claude as claude_agent
from sessions.agents import kind_of
from sessions.agents.claude import EVENTS as CLAUDE_EVENTS
from sessions.agents.gemini import EVENTS as GEMINI_EVENTS
from sessions.agents.gemini import SETTINGS as GEMINI_SETTINGS
from sessions.agents.hook_settings import hook_argv, is_corral_hook, spool_command
from sessions.agents.hook_spool import Spool
from sessions.agents.kind import Prepared
from sessions.core.model import AgentSpec, Kind
from sessions.supervisor import Supervisor
from tests.helpers import git, wait_for

SETTINGS = Path(".claude") / "settings.local.json"
LIVE_TIMEOUT = 120


@pytest.fixture(autouse=True)
def own_claude_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test names its own HOME; a developer's CLAUDE_CONFIG_DIR would win over it."""
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)


@pytest.fixture
def worktree(make_repo: Callable[..., Path], tmp_path: Path) -> Path:
    """A real linked worktree of a repository whose excludes corral has prepared."""
    root = make_repo()
    Repo.discover(root).prepare()
    path = tmp_path / "worktrees" / "alpha"
    git(root, "worktree", "add", "-q", "-b", "corral/alpha", str(path))
    return path.resolve()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A private HOME with a ~/.claude.json like the one Claude Code keeps."""
    folder = tmp_path / "home"
    folder.mkdir()
    config = {
        "numStartups": 7,
        "hasCompletedOnboarding": True,
        "oauthAccount": {"emailAddress": "dev@example.invalid"},
        "projects": {"/elsewhere": {"hasTrustDialogAccepted": True, "allowedTools": ["Bash"]}},
    }
    path = folder / ".claude.json"
    path.write_text(json.dumps(config, indent=2))
    path.chmod(0o600)
    return folder


def spec(kind: Kind, home: Path | None = None, env: dict[str, str] | None = None) -> AgentSpec:
    pairs = (("HOME", str(home)),) if home else ()
    return AgentSpec(name="alpha", kind=kind, env=pairs + tuple((env or {}).items()))


def install_claude(worktree: Path, home: Path) -> Prepared:
    return kind_of(Kind.CLAUDE).prepare(spec(Kind.CLAUDE, home), worktree, home / "state")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def corral_entries(settings: dict[str, Any], event: str) -> list[dict[str, Any]]:
    return [
        entry
        for group in settings["hooks"].get(event, [])
        for entry in group.get("hooks", [])
        if is_corral_hook(entry)
    ]


# --- Claude Code: settings ------------------------------------------------------------------


def test_claude_gets_one_sync_hook_per_event_and_git_stays_clean(
    worktree: Path, home: Path
) -> None:
    assert install_claude(worktree, home) == Prepared()
    settings = read_json(worktree / SETTINGS)
    assert set(settings["hooks"]) == set(CLAUDE_EVENTS)
    for event in CLAUDE_EVENTS:
        [entry] = corral_entries(settings, event)
        assert entry == {
            "type": "command",
            "command": spool_command("claude", asks=event == "PreToolUse"),
            "timeout": 10,
        }
    assert git(worktree, "status", "--porcelain", "--ignored=no").strip() == ""
    assert git(worktree, "check-ignore", str(SETTINGS)).strip() == str(SETTINGS)


def test_claude_settings_are_merged_and_a_second_install_changes_nothing(
    worktree: Path, home: Path
) -> None:
    mine = {"type": "command", "command": "./scripts/check-bash.sh"}
    old = {"type": "command", "command": "/old/venv/bin/python -P -m sessions.hook --kind claude"}
    existing = {
        "permissions": {"allow": ["Bash(npm test)"]},
        "model": "opus",
        "hooks": {
            "PreToolUse": [{"matcher": "Bash", "hooks": [mine, old]}],
            "Stop": [{"hooks": [old]}],
            "UserPromptSubmit": [],
        },
    }
    (worktree / ".claude").mkdir()
    (worktree / SETTINGS).write_text(json.dumps(existing))
    install_claude(worktree, home)
    first = (worktree / SETTINGS).read_bytes()
    settings = json.loads(first)
    assert settings["permissions"] == existing["permissions"]
    assert settings["model"] == "opus"
    assert settings["hooks"]["PreToolUse"][0] == {"matcher": "Bash", "hooks": [mine]}
    for event in CLAUDE_EVENTS:
        assert len(corral_entries(settings, event)) == 1
    assert not any(old in group["hooks"] for group in settings["hooks"]["Stop"])
    mtime = (worktree / SETTINGS).stat().st_mtime_ns

    install_claude(worktree, home)
    assert (worktree / SETTINGS).read_bytes() == first
    assert (worktree / SETTINGS).stat().st_mtime_ns == mtime


def test_broken_claude_settings_are_moved_aside_not_lost(worktree: Path, home: Path) -> None:
    (worktree / ".claude").mkdir()
    broken = '{"permissions": {"allow": ["Bash(ls)"]},, oops'
    (worktree / SETTINGS).write_text(broken)
    prepared = install_claude(worktree, home)
    [backup] = (worktree / ".claude").glob("settings.local.json.corral-bak-*")
    assert backup.read_text() == broken
    [note] = prepared.notes
    assert backup.name in note and "moved aside" in note
    assert set(read_json(worktree / SETTINGS)["hooks"]) == set(CLAUDE_EVENTS)


def test_tracked_claude_settings_are_left_alone(make_repo: Callable[..., Path]) -> None:
    root = make_repo()
    (root / ".claude").mkdir()
    (root / SETTINGS).write_text('{"model": "opus"}\n')
    git(root, "add", "-f", str(SETTINGS))
    git(root, "commit", "-q", "-m", "settings")
    home = root.parent / "home-tracked"
    prepared = kind_of(Kind.CLAUDE).prepare(spec(Kind.CLAUDE, home), root, root / ".corral")
    assert (root / SETTINGS).read_text() == '{"model": "opus"}\n'
    assert any("tracked by the project" in note for note in prepared.notes)


# --- Claude Code: trust ---------------------------------------------------------------------


def test_the_worktree_is_trusted_and_nothing_else_in_claude_json_moves(
    worktree: Path, home: Path
) -> None:
    before = read_json(home / ".claude.json")
    install_claude(worktree, home)
    after = read_json(home / ".claude.json")
    assert after["projects"][str(worktree)] == {"hasTrustDialogAccepted": True}
    assert {k: v for k, v in after.items() if k != "projects"} == {
        k: v for k, v in before.items() if k != "projects"
    }
    assert after["projects"]["/elsewhere"] == before["projects"]["/elsewhere"]
    assert stat.S_IMODE((home / ".claude.json").stat().st_mode) == 0o600
    assert not (home / ".claude.json.lock").exists()
    assert [p.name for p in home.iterdir() if p.name.endswith(".tmp")] == []


def test_an_existing_project_entry_keeps_its_keys(worktree: Path, home: Path) -> None:
    config = read_json(home / ".claude.json")
    config["projects"][str(worktree)] = {"allowedTools": ["Edit"], "hasTrustDialogAccepted": False}
    (home / ".claude.json").write_text(json.dumps(config))
    install_claude(worktree, home)
    entry = read_json(home / ".claude.json")["projects"][str(worktree)]
    assert entry == {"allowedTools": ["Edit"], "hasTrustDialogAccepted": True}


def test_claude_config_dir_wins_over_home(worktree: Path, home: Path, tmp_path: Path) -> None:
    config_dir = tmp_path / "claude-config"
    agent = spec(Kind.CLAUDE, home, {"CLAUDE_CONFIG_DIR": str(config_dir)})
    kind_of(Kind.CLAUDE).prepare(agent, worktree, tmp_path / "state")
    assert read_json(config_dir / ".claude.json")["projects"][str(worktree)] == {
        "hasTrustDialogAccepted": True
    }
    assert str(worktree) not in read_json(home / ".claude.json")["projects"]


def test_a_claude_json_that_does_not_parse_is_left_alone(worktree: Path, home: Path) -> None:
    (home / ".claude.json").write_text('{"numStartups": 3, truncated')
    prepared = install_claude(worktree, home)
    assert (home / ".claude.json").read_text() == '{"numStartups": 3, truncated'
    [note] = prepared.notes
    assert "left it alone" in note
    assert (worktree / SETTINGS).exists()


def test_a_live_lock_is_respected_and_a_stale_one_taken_over(
    worktree: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(claude_agent, "LOCK_WAIT", 0.2)
    lock = home / ".claude.json.lock"
    lock.mkdir()
    prepared = install_claude(worktree, home)
    assert any("stayed locked" in note for note in prepared.notes)
    assert str(worktree) not in read_json(home / ".claude.json")["projects"]
    assert lock.is_dir()

    old = time.time() - 60
    os.utime(lock, (old, old))
    assert install_claude(worktree, home) == Prepared()
    assert read_json(home / ".claude.json")["projects"][str(worktree)]["hasTrustDialogAccepted"]
    assert not lock.exists()


def test_two_launches_at_once_both_land(worktree: Path, home: Path, tmp_path: Path) -> None:
    """Each read-modify-write happens under the lock, so neither trust entry is lost."""
    others = [tmp_path / f"other-{n}" for n in range(6)]
    for folder in others:
        folder.mkdir()
    script = (
        "import sys; from pathlib import Path; from sessions.agents.claude import trust; "
        "trust(Path(sys.argv[1]), Path(sys.argv[2]))"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(home / ".claude.json"), str(folder)],
            cwd=Path(__file__).resolve().parents[2],
        )
        for folder in others
    ]
    assert [process.wait(timeout=60) for process in processes] == [0] * len(others)
    projects = read_json(home / ".claude.json")["projects"]
    assert all(projects[str(folder.resolve())]["hasTrustDialogAccepted"] for folder in others)


# --- Gemini, Codex, Aider -------------------------------------------------------------------


def gemini_home(tmp_path: Path, rules: dict[str, str] | None = None) -> Path:
    """A private HOME whose trustedFolders.json holds `rules` (none: no file)."""
    home = tmp_path / "gemini-home"
    (home / ".gemini").mkdir(parents=True)
    if rules is not None:
        (home / ".gemini" / "trustedFolders.json").write_text(json.dumps(rules, indent=2))
    return home


def install_gemini(worktree: Path, home: Path, env: dict[str, str] | None = None) -> Prepared:
    agent = spec(Kind.GEMINI, home, env)
    return kind_of(Kind.GEMINI).prepare(agent, worktree, home / "state")


def test_gemini_hooks_are_merged_into_the_workspace_settings_and_git_stays_clean(
    worktree: Path, tmp_path: Path
) -> None:
    theirs = {"type": "command", "command": "/opt/audit-hook", "timeout": 500}
    old = {"name": "corral", "type": "command", "command": "/old/python -m sessions.hook"}
    existing = {
        "ui": {"theme": "GitHub"},
        "hooksConfig": {"notifications": False},
        "hooks": {
            "BeforeTool": [{"matcher": "run_shell_command", "hooks": [theirs, old]}],
            "AfterAgent": [{"hooks": [old]}],
            "BeforeModel": [{"hooks": [theirs]}],
        },
    }
    (worktree / ".gemini").mkdir()
    (worktree / GEMINI_SETTINGS).write_text(json.dumps(existing))
    home = gemini_home(tmp_path, {"/elsewhere": "TRUST_FOLDER"})
    assert install_gemini(worktree, home) == Prepared()
    first = (worktree / GEMINI_SETTINGS).read_bytes()
    settings = json.loads(first)
    assert {k: v for k, v in settings.items() if k != "hooks"} == {
        "ui": {"theme": "GitHub"},
        "hooksConfig": {"notifications": False},
    }
    assert settings["hooks"]["BeforeTool"][0] == {"matcher": "run_shell_command", "hooks": [theirs]}
    assert settings["hooks"]["BeforeModel"] == [{"hooks": [theirs]}]
    assert set(settings["hooks"]) == {*GEMINI_EVENTS, "BeforeModel"}
    for event in GEMINI_EVENTS:
        [entry] = corral_entries(settings, event)
        assert set(entry) == {"name", "type", "command", "timeout"}
        assert (entry["name"], entry["type"], entry["timeout"]) == ("corral", "command", 10_000)
        assert entry["command"] == spool_command("gemini")
    assert git(worktree, "status", "--porcelain", "--ignored=no").strip() == ""
    assert git(worktree, "check-ignore", str(GEMINI_SETTINGS)).strip() == str(GEMINI_SETTINGS)

    trust_file = home / ".gemini" / "trustedFolders.json"
    assert read_json(trust_file) == {"/elsewhere": "TRUST_FOLDER", str(worktree): "TRUST_FOLDER"}
    assert stat.S_IMODE(trust_file.stat().st_mode) == 0o644, "an existing file keeps its mode"
    assert not (home / ".gemini" / "trustedFolders.json.lock").exists()
    assert [p.name for p in (home / ".gemini").iterdir() if p.name.endswith(".tmp")] == []

    stamps = [(worktree / GEMINI_SETTINGS).stat().st_mtime_ns, trust_file.stat().st_mtime_ns]
    assert install_gemini(worktree, home) == Prepared()
    assert (worktree / GEMINI_SETTINGS).read_bytes() == first
    assert [(worktree / GEMINI_SETTINGS).stat().st_mtime_ns, trust_file.stat().st_mtime_ns] == (
        stamps
    )


def test_gemini_runs_from_a_fresh_home_and_forgets_the_old_defaults_copy(
    worktree: Path, tmp_path: Path
) -> None:
    """No ~/.gemini yet: both files are created; the copy older releases wrote is removed."""
    home = tmp_path / "bare-home"
    home.mkdir()
    old_copy = home / "state" / "gemini" / "alpha.json"
    old_copy.parent.mkdir(parents=True)
    old_copy.write_text("{}")
    assert install_gemini(worktree, home) == Prepared()
    assert not old_copy.exists()
    assert len(corral_entries(read_json(worktree / GEMINI_SETTINGS), "BeforeTool")) == 1
    trust_file = home / ".gemini" / "trustedFolders.json"
    assert read_json(trust_file) == {str(worktree): "TRUST_FOLDER"}
    assert stat.S_IMODE(trust_file.stat().st_mode) == 0o600


def test_tracked_gemini_settings_are_left_alone_and_the_reason_given(
    make_repo: Callable[..., Path], tmp_path: Path
) -> None:
    root = make_repo()
    Repo.discover(root).prepare()
    (root / ".gemini").mkdir()
    (root / GEMINI_SETTINGS).write_text('{"model": {"name": "gemini-2.5-pro"}}\n')
    git(root, "add", "-f", str(GEMINI_SETTINGS))
    git(root, "commit", "-q", "-m", "gemini settings")
    path = tmp_path / "worktrees" / "alpha"
    git(root, "worktree", "add", "-q", "-b", "corral/alpha", str(path))
    prepared = install_gemini(path, gemini_home(tmp_path))
    assert (path / GEMINI_SETTINGS).read_text() == '{"model": {"name": "gemini-2.5-pro"}}\n'
    [note] = prepared.notes
    assert "tracked by the project" in note and "status comes from its screen" in note
    assert git(path, "status", "--porcelain").strip() == ""


def test_gemini_settings_corral_cannot_rewrite_faithfully_are_left_alone(
    worktree: Path, tmp_path: Path
) -> None:
    """Gemini CLI allows comments, which a rewrite would lose; nothing is moved aside."""
    home = gemini_home(tmp_path)
    (worktree / ".gemini").mkdir()
    for text, why in (
        ('{\n  // the team theme\n  "ui": {"theme": "GitHub"}\n}\n', "comments"),
        ('{"hooks": {"BeforeTool": {"command": "x"}}}', "not an object of lists"),
        ("[1, 2]", "not a JSON object"),
    ):
        (worktree / GEMINI_SETTINGS).write_text(text)
        [note] = install_gemini(worktree, home).notes
        assert why in note and "left it alone" in note
        assert (worktree / GEMINI_SETTINGS).read_text() == text
    assert sorted(p.name for p in (worktree / ".gemini").iterdir()) == ["settings.json"]


def test_a_gitignore_that_unignores_gemini_settings_keeps_corral_out(
    worktree: Path, tmp_path: Path
) -> None:
    (worktree / ".gitignore").write_text("!.gemini/settings.json\n")
    [note] = install_gemini(worktree, gemini_home(tmp_path)).notes
    assert "not ignored by git" in note
    assert not (worktree / GEMINI_SETTINGS).exists()


@pytest.mark.parametrize(
    ("rules", "decided"),
    [
        ({"{parent}": "TRUST_FOLDER"}, "trusted"),
        ({"{worktree}/../sibling": "TRUST_PARENT"}, "trusted"),
        ({"{parent}": "DO_NOT_TRUST"}, "distrusted"),
        ({"{worktree}": "DO_NOT_TRUST", "{parent}": "TRUST_FOLDER"}, "distrusted"),
        ({"{parent}": "DO_NOT_TRUST", "{parent}/../worktrees/alpha": "TRUST_FOLDER"}, "trusted"),
    ],
)
def test_a_trust_rule_of_the_users_decides_and_corral_adds_none(
    worktree: Path, tmp_path: Path, rules: dict[str, str], decided: str
) -> None:
    """corral answers only the question Gemini would ask: the longest matching rule wins."""
    names = {"worktree": str(worktree), "parent": str(worktree.parent)}
    filled = {rule.format(**names): level for rule, level in rules.items()}
    home = gemini_home(tmp_path, filled)
    before = (home / ".gemini" / "trustedFolders.json").read_bytes()
    prepared = install_gemini(worktree, home)
    assert (home / ".gemini" / "trustedFolders.json").read_bytes() == before
    if decided == "trusted":
        assert prepared == Prepared()
    else:
        [note] = prepared.notes
        assert "not to trust" in note and "runs no hooks" in note


def test_gemini_trust_follows_the_clis_own_env(worktree: Path, tmp_path: Path) -> None:
    home = gemini_home(tmp_path)
    elsewhere = tmp_path / "trust" / "folders.json"
    assert install_gemini(worktree, home, {"GEMINI_CLI_TRUSTED_FOLDERS_PATH": str(elsewhere)}) == (
        Prepared()
    )
    assert read_json(elsewhere) == {str(worktree): "TRUST_FOLDER"}
    cli_home = tmp_path / "cli-home"
    install_gemini(worktree, home, {"GEMINI_CLI_HOME": str(cli_home)})
    assert read_json(cli_home / ".gemini" / "trustedFolders.json") == {
        str(worktree): "TRUST_FOLDER"
    }
    assert not (home / ".gemini" / "trustedFolders.json").exists()
    assert install_gemini(worktree, home, {"GEMINI_CLI_TRUST_WORKSPACE": "true"}) == Prepared()
    [note] = install_gemini(worktree, home, {"GEMINI_RESTRICTED_MODE": "true"}).notes
    assert "runs no hooks" in note
    assert not (home / ".gemini" / "trustedFolders.json").exists()


def test_a_broken_or_locked_trust_file_is_left_alone(
    worktree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = gemini_home(tmp_path)
    trust_file = home / ".gemini" / "trustedFolders.json"
    for text in ('{"/a": "TRUST_FOLDER",, oops', '{"/a": "TRUST_ME"}'):
        trust_file.write_text(text)
        [note] = install_gemini(worktree, home).notes
        assert "left it alone" in note and str(worktree) in note
        assert trust_file.read_text() == text

    trust_file.write_text("{}")
    monkeypatch.setattr(claude_agent, "LOCK_WAIT", 0.2)
    lock = home / ".gemini" / "trustedFolders.json.lock"
    lock.mkdir()
    [note] = install_gemini(worktree, home).notes
    assert "stayed locked" in note
    assert trust_file.read_text() == "{}" and lock.is_dir()
    old = time.time() - 60
    os.utime(lock, (old, old))
    assert install_gemini(worktree, home) == Prepared()
    assert read_json(trust_file) == {str(worktree): "TRUST_FOLDER"}
    assert not lock.exists()


def test_gemini_hooks_switched_off_by_the_user_are_named(worktree: Path, tmp_path: Path) -> None:
    home = gemini_home(tmp_path)
    user = home / ".gemini" / "settings.json"
    user.write_text(json.dumps({"hooksConfig": {"enabled": False}}))
    [note] = install_gemini(worktree, home).notes
    assert str(user) in note and "hooksConfig.enabled" in note
    assert len(corral_entries(read_json(worktree / GEMINI_SETTINGS), "AfterAgent")) == 1

    settings = read_json(worktree / GEMINI_SETTINGS)
    (worktree / GEMINI_SETTINGS).write_text(
        json.dumps({**settings, "hooksConfig": {"enabled": True}})
    )
    assert install_gemini(worktree, home) == Prepared()


def test_codex_gets_notify_as_a_toml_array_on_start_and_resume(tmp_path: Path) -> None:
    agent = AgentSpec(name="alpha", kind=Kind.CODEX, prompt="go", args=("--full-auto",))
    lines = kind_of(Kind.CODEX).launch(agent)
    for argv in (lines.argv, lines.resume_argv):
        assert argv[0] == "codex"
        flag, value = argv[1:3]
        key, _, toml = value.partition("=")
        assert (flag, key) == ("-c", "notify")
        assert tomllib.loads(f"notify = {toml}")["notify"] == list(hook_argv("codex"))
    assert lines.argv[3:] == ("--full-auto", "go")
    assert lines.resume_argv[3:] == ("resume", "--last", "--full-auto")


def test_codex_notify_quoting_survives_any_path() -> None:
    from sessions.agents.codex import toml_array

    words = ('/a "quoted" dir\\with\\backslashes', "tab\there", "del\x7f", "ünï")
    assert tomllib.loads(f"x = {toml_array(words)}")["x"] == list(words)


def test_aiders_notifications_command_runs_the_hook_through_a_shell(tmp_path: Path) -> None:
    agent = AgentSpec(name="alpha", kind=Kind.AIDER)
    lines = kind_of(Kind.AIDER).launch(agent)
    for argv in (lines.argv, lines.resume_argv):
        index = argv.index("--notifications-command")
        assert "--notifications" in argv[:index]
        command = argv[index + 1]
        assert shlex.split(command) == list(hook_argv("aider", "--event", "Notification"))
    state = tmp_path / "state"
    state.mkdir()
    env = {**os.environ, "CORRAL_AGENT": "alpha", "CORRAL_HOME": str(state)}
    done = subprocess.run(command, shell=True, capture_output=True, env=env, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    [event] = [json.loads(line) for line in (state / "events" / "alpha.jsonl").read_text().split()]
    assert (event["kind"], event["event"], event["notification_type"]) == (
        "aider",
        "Notification",
        "idle_prompt",
    )


# --- through the supervisor, with real panes ------------------------------------------------


@pytest.fixture
def herd(make_repo: Callable[..., Path]) -> Callable[[str], Supervisor]:
    def open_(config: str) -> Supervisor:
        root = make_repo(config)
        return Supervisor.open(root)

    return open_


def events_of(supervisor: Supervisor, name: str) -> list[dict[str, Any]]:
    path = supervisor.repo.state_dir / "events" / f"{name}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.tmux
def test_up_installs_claude_and_gemini_hooks_before_the_panes_start(
    herd: Callable[[str], Supervisor], home: Path
) -> None:
    fake = 'command = ["sh", "-c", "exec sleep 60"]\n'
    config = (
        f'[[agent]]\nname = "cc"\nkind = "claude"\n{fake}[agent.env]\nHOME = "{home}"\n\n'
        f'[[agent]]\nname = "gg"\nkind = "gemini"\n{fake}[agent.env]\nHOME = "{home}"\n'
    )
    supervisor = herd(config)
    outcomes = supervisor.up()
    assert [outcome.action for outcome in outcomes] == ["started", "started"], outcomes
    views = {view.name: view for view in supervisor.look()}
    claude_tree = Path(views["cc"].worktree)
    assert len(corral_entries(read_json(claude_tree / SETTINGS), "PreToolUse")) == 1
    projects = read_json(home / ".claude.json")["projects"]
    assert projects[str(claude_tree.resolve())]["hasTrustDialogAccepted"] is True
    assert git(claude_tree, "status", "--porcelain").strip() == ""
    gemini_tree = Path(views["gg"].worktree)
    assert len(corral_entries(read_json(gemini_tree / GEMINI_SETTINGS), "BeforeTool")) == 1
    trusted = read_json(home / ".gemini" / "trustedFolders.json")
    assert trusted == {str(gemini_tree.resolve()): "TRUST_FOLDER"}
    assert git(gemini_tree, "status", "--porcelain").strip() == ""
    plan = read_json(supervisor.repo.launch_dir / "gg.json")
    assert not any(key.startswith("GEMINI_CLI_") for key in plan["env"])


@pytest.mark.tmux
def test_why_hooks_could_not_be_installed_is_kept_for_explain(
    herd: Callable[[str], Supervisor], home: Path
) -> None:
    """The reason reaches `corral explain` after `up`'s message is gone."""
    fake = 'command = ["sh", "-c", "exec sleep 60"]\n'
    supervisor = herd(
        f'[[agent]]\nname = "cc"\nkind = "claude"\n{fake}[agent.env]\nHOME = "{home}"\n'
    )
    root = supervisor.repo.root
    (root / ".claude").mkdir()
    (root / SETTINGS).write_text('{"model": "opus"}\n')
    git(root, "add", "-f", str(SETTINGS))
    git(root, "commit", "-q", "-m", "settings")
    [outcome] = supervisor.up()
    assert "tracked by the project" in outcome.message
    explained = [text for source, text in supervisor.explain("cc") if source == "setup"]
    assert any("tracked by the project" in text for text in explained)


SCENARIO = """
[[step]]
do = "read"
path = "README.md"
[[step]]
do = "edit"
path = "src/app.py"
[[step]]
do = "bash"
argv = ["git", "status", "--short"]
[[step]]
do = "say"
text = "All done."
[[step]]
do = "idle"
"""


@pytest.mark.tmux
def test_the_simulated_agent_reports_through_the_real_hook_entry(
    herd: Callable[[str], Supervisor], tmp_path: Path
) -> None:
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(SCENARIO)
    config = (
        '[[agent]]\nname = "sim-1"\nkind = "sim"\nprompt = "tidy up"\n'
        f'args = ["--speed", "0.05", "--scenario", "{scenario}"]\n'
    )
    supervisor = herd(config)
    supervisor.up()
    wait_for(
        lambda: any(e["event"] == "Stop" for e in events_of(supervisor, "sim-1")),
        30,
        what="the Stop event",
    )
    events = [e for e in events_of(supervisor, "sim-1") if e.get("kind") == "sim"]
    assert [e["event"] for e in events] == [
        "SessionStart",
        "UserPromptSubmit",
        *(["PreToolUse", "PostToolUse"] * 3),
        "Stop",
    ]
    tools = [(e["tool"], e["cls"], e.get("paths"), e.get("command")) for e in events[2::2][:3]]
    assert tools == [
        ("Read", "read", ["README.md"], None),
        ("Edit", "edit", ["src/app.py"], None),
        ("Bash", "exec", None, "git status --short"),
    ]
    assert {e["kind"] for e in events} == {"sim"} and {e["agent"] for e in events} == {"sim-1"}
    assert len({e["session_id"] for e in events}) == 1
    assert all(a["t"] <= b["t"] for a, b in itertools.pairwise(events))

    supervisor.kill("sim-1")
    wait_for(
        lambda: any(e["event"] == "SessionEnd" for e in events_of(supervisor, "sim-1")),
        15,
        what="SessionEnd",
    )


# --- the real Claude Code CLI ---------------------------------------------------------------


@pytest.fixture
def live_claude() -> Path:
    """The real CLI (installed once per machine), or a visible skip where it cannot be."""
    from tests.support.claude_cli import CLAUDE

    return CLAUDE.program_or_skip()


@pytest.mark.tmux
@pytest.mark.timeout(LIVE_TIMEOUT)
def test_real_claude_code_reports_through_the_installed_hooks(
    live_claude: Path, worktree: Path, tmp_path: Path
) -> None:
    from tests.support.claude_cli import claude_env, prepare_home, start_claude
    from tests.support.standin import Reply, StandIn, ToolUse

    home = tmp_path / "claude-home"
    prepare_home(home)
    assert install_claude(worktree, home) == Prepared()
    state = tmp_path / "state"
    state.mkdir()
    spool = Spool(str(state), "alpha", str(worktree))
    spool.make()  # as the agent's runner does: the shell entry's payloads wait there
    target = worktree / "notes.md"
    write = ToolUse("Write", {"file_path": str(target), "content": "# Notes\n"})
    with StandIn([Reply(text="Writing it.", tools=(write,)), Reply(text="Written.")]) as api:
        env = claude_env(home, api.url, extra={"CORRAL_AGENT": "alpha", "CORRAL_HOME": str(state)})
        pane = start_claude(live_claude, worktree, env, ("--permission-mode", "acceptEdits"))
        try:
            pane.wait_idle(timeout=60)
            pane.submit("write the notes")
            pane.wait_for_text("Written.", timeout=60)
            log = state / "events" / "alpha.jsonl"

            def events() -> list[dict[str, Any]]:
                spool.drain()
                lines = log.read_text().splitlines() if log.exists() else []
                return [json.loads(line) for line in lines]

            wait_for(lambda: any(e["event"] == "Stop" for e in events()), 30, what="Stop")
            pane.type("/exit")
            pane.press("Enter")
            wait_for(lambda: events()[-1]["event"] == "SessionEnd", 30, what="SessionEnd")
        finally:
            pane.kill_server()
    names = [e["event"] for e in events()]
    assert names[:2] == ["SessionStart", "UserPromptSubmit"], names
    pre = next(e for e in events() if e["event"] == "PreToolUse")
    post = next(e for e in events() if e["event"] == "PostToolUse")
    assert (pre["tool"], pre["cls"], pre["paths"]) == ("Write", "edit", ["notes.md"])
    assert post["tool_use_id"] == pre["tool_use_id"] and post["sizes"]["tool_response"] > 0
    assert names.index("PreToolUse") < names.index("PostToolUse") < names.index("Stop")
    assert target.read_text() == "# Notes\n"
    assert not (state / "hook-errors.log").exists()
    assert not os.listdir(spool.folder)
    assert git(worktree, "status", "--porcelain").strip() == "?? notes.md"
