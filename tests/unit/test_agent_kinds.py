"""One kind, one home: each kind's module points at all its parts, screen rules are data files
read once, and the hook pays only for the kind's small hook part."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sessions.agents import kind_of
from sessions.agents.hook_part import hook_part
from sessions.core import screen_rules
from sessions.core.model import Kind
from sessions.core.screen_rules import Look, read_screen

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_has_one_module_that_reaches_its_parts(kind: Kind) -> None:
    agent = kind_of(kind)
    assert agent.kind is kind
    assert agent.hook is hook_part(kind)
    has_rules = (screen_rules.RULES_DIR / f"{kind.value}.toml").exists()
    assert (agent.screen_table is not None) == has_rules
    has_reader = (ROOT / "sessions" / "agents" / "transcripts" / f"{kind.value}.py").exists()
    assert (agent.transcript_reader is not None) == has_reader


@pytest.mark.parametrize("kind", ["claude", "codex", "gemini"])
def test_screen_rules_name_the_version_their_samples_were_recorded_on(kind: str) -> None:
    """The rules' `version` is one the recordings in tests/data/<kind> show the CLI running."""
    rules = kind_of(kind).screen_table
    assert rules is not None
    version = rules.seen_on.split(" (")[0].rsplit(" ", 1)[1]
    recorded = (path.read_text(errors="replace") for path in (DATA / kind).iterdir())
    assert any(version in text for text in recorded)


def test_screen_rules_are_read_the_first_time_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(screen_rules.RULES_DIR / "codex.toml", tmp_path / "codex.toml")
    monkeypatch.setattr(screen_rules, "RULES_DIR", tmp_path)
    monkeypatch.setattr(screen_rules, "TABLES", {})
    screen = (DATA / "codex" / "startup-idle.txt").read_text()
    first = screen_rules.table("codex")
    assert read_screen("codex", screen).look is Look.IDLE
    (tmp_path / "codex.toml").unlink()
    assert screen_rules.table("codex") is first
    assert read_screen("codex", screen).look is Look.IDLE


def test_importing_the_screen_rules_reads_no_table() -> None:
    code = (
        "import sessions.supervisor; from sessions.core import screen_rules; "
        "print(len(screen_rules.TABLES))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "0"


def test_the_hook_loads_the_kinds_hook_part_and_not_its_agent_kind(tmp_path: Path) -> None:
    """The hook part is what the entry needs; the AgentKind (dataclasses, git) stays out."""
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); from sessions.hook import main; main(); "
        "sys.stderr.write(' '.join(sorted(sys.modules)))"
    )
    env = {**os.environ, "CORRAL_AGENT": "alpha", "CORRAL_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", probe, str(ROOT), "--kind", "gemini"],
        input=json.dumps({"hook_event_name": "AfterAgent"}).encode(),
        capture_output=True,
        env=env,
        check=True,
    )
    loaded = set(done.stderr.decode().split())
    assert json.loads(done.stdout) == {}
    assert "sessions.agents.gemini_hook" in loaded
    assert not loaded & {"sessions.agents.kind", "sessions.agents.gemini", "dataclasses"}


def test_a_kind_without_a_hook_part_pipes_nothing_and_names_no_tools() -> None:
    part = hook_part(Kind.SHELL)
    assert (part.stdin, part.translate, part.tools, part.answer) == (False, None, {}, None)
