"""The new-agent form, driven by keys: `n` opens it, submitting writes a real corral.toml and
asks the herd to read it again and start the agent; a refused agent keeps the form open with
the parser's sentence and leaves the file alone; Escape writes nothing."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static, TextArea

from sessions.adapters.config import load_config
from sessions.adapters.config_writer import HEADER, render_agent
from sessions.core.agent_fields import AgentFields
from sessions.core.model import Kind
from tests.tui.conftest import Notes, corral, until
from tests.tui.fakes import FakeHerd, make_herd
from tui.app import CorralApp
from tui.screens.new_agent import NewAgentScreen

SnapCompare = Callable[..., bool]

CONFIG = """\
# The team for this repository.
base = "main"

[[agent]]
# The one who reviews.
name = "alpha"
kind = "sim"
restart = "always"   # keep it going
"""


@pytest.fixture
def configured(tmp_path: Path) -> FakeHerd:
    """The fake herd over a folder whose corral.toml is real, read the way `open` reads it."""
    herd = make_herd(tmp_path / "project")
    (herd.repo.root / "corral.toml").write_text(CONFIG)
    herd.config = load_config(herd.repo.root)
    return herd


def config_text(herd: FakeHerd) -> str:
    return (herd.repo.root / "corral.toml").read_text()


def error_shown(app: Any) -> str:
    return str(app.screen.query_one("#new-agent-error", Static).render())


async def open_form(pilot: Pilot[Any]) -> NewAgentScreen:
    app = pilot.app
    assert isinstance(app, CorralApp)
    await until(pilot, lambda: app.snapshot is not None, what="the first look")
    await pilot.press("n")
    screen = await until(
        pilot, lambda: pilot.app.screen if isinstance(pilot.app.screen, NewAgentScreen) else None
    )
    assert isinstance(screen, NewAgentScreen)
    return screen


@pytest.mark.asyncio
async def test_n_writes_the_agent_into_corral_toml_and_starts_it(configured: FakeHerd) -> None:
    app = corral(configured)
    notes = Notes(app)
    async with app.run_test(size=(100, 32)) as pilot:
        form = await open_form(pilot)
        name = form.query_one("#name", Input)
        # alpha..delta are in the snapshot, none of them a claude-N: the first claude is 1.
        assert name.value == "claude-1"
        assert name.has_focus
        await pilot.press("tab", "enter")  # the kind's list opens on claude
        await pilot.press("down", "down", "down", "down", "down", "enter")
        assert form.query_one("#kind", Select).value == "sim"
        assert name.value == "sim-1"  # an untouched name follows the kind
        await pilot.press("tab", *"python -m sim", "tab", "enter", "down", "down", "enter")
        assert form.query_one("#restart", Select).value == "always"
        await pilot.press("tab", *"Read PROGRESS.md", "enter", *"then take a task")
        assert form.query_one(TextArea).text == "Read PROGRESS.md\nthen take a task"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: ("up", ("sim-1",)) in configured.calls, what="the start")
        assert configured.calls == [("reload_config", None), ("up", ("sim-1",))]
        assert not isinstance(app.screen, NewAgentScreen)
        # The user's text as it was, then a blank line and the table for what the form said,
        # rendered the way corral renders every new agent.
        text = config_text(configured)
        assert text == CONFIG + "\n" + render_agent(
            AgentFields(
                name="sim-1",
                kind="sim",
                command="python -m sim",
                prompt="Read PROGRESS.md\nthen take a task",
                restart="always",
            )
        )
        assert tomllib.loads(text)["agent"][-1] == {
            "name": "sim-1",
            "kind": "sim",
            "command": "python -m sim",
            "prompt": "Read PROGRESS.md\nthen take a task",
            "restart": "always",
        }
        assert [spec.name for spec in configured.specs()] == ["alpha", "sim-1"]
        where = configured.repo.root / "corral.toml"
        await until(pilot, lambda: f"sim-1 (sim) added to {where}:10" in notes.text())
        await until(pilot, lambda: "sim-1 started" in notes.text())


@pytest.mark.asyncio
async def test_a_bad_name_is_shown_in_the_form_and_nothing_is_written(
    configured: FakeHerd,
) -> None:
    app = corral(configured)
    async with app.run_test(size=(100, 32)) as pilot:
        form = await open_form(pilot)
        name = form.query_one("#name", Input)
        name.value = ""
        await pilot.press(*"Bad Name", "enter")
        await until(pilot, lambda: form.error, what="the refusal")
        path = configured.repo.root / "corral.toml"
        assert form.error == (
            f'{path}:11: agent[2].name: is "Bad Name": use lowercase letters, digits and '
            "'-', starting with a letter or digit, at most 40 characters (such names never "
            "need quoting in a shell, tmux or git)"
        )
        assert "agent[2].name" in error_shown(app)
        assert app.screen is form and name.has_focus
        assert config_text(configured) == CONFIG
        assert configured.calls == []
        # The form stays usable: a good name goes through.
        name.value = "beta"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: configured.calls, what="the start")
        assert configured.calls == [("reload_config", None), ("up", ("beta",))]
        text = config_text(configured)
        assert text.startswith(CONFIG)
        assert [agent["name"] for agent in tomllib.loads(text)["agent"]] == ["alpha", "beta"]


@pytest.mark.asyncio
async def test_a_taken_name_gets_the_parsers_sentence(configured: FakeHerd) -> None:
    app = corral(configured)
    async with app.run_test(size=(100, 32)) as pilot:
        form = await open_form(pilot)
        form.query_one("#name", Input).value = "alpha"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: form.error, what="the refusal")
        assert form.error is not None
        assert form.error.endswith(
            '"alpha" is already the name of agent[1] on line 6: give every agent its own name'
        )
        assert config_text(configured) == CONFIG
        assert configured.calls == []


@pytest.mark.asyncio
async def test_a_shell_agent_without_a_command_points_at_the_command(herd: FakeHerd) -> None:
    app = corral(herd)
    async with app.run_test(size=(100, 32)) as pilot:
        form = await open_form(pilot)
        form.query_one("#kind", Select).value = Kind.SHELL
        await pilot.pause()
        assert form.query_one("#name", Input).value == "shell-1"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: form.error, what="the refusal")
        assert "agent[1].command: is missing: a shell agent runs the command you give" in (
            form.error or ""
        )
        assert form.query_one("#command", Input).has_focus
        assert not (herd.repo.root / "corral.toml").exists()
        assert herd.calls == []


@pytest.mark.asyncio
async def test_escape_closes_the_form_and_writes_nothing(configured: FakeHerd) -> None:
    app = corral(configured)
    async with app.run_test(size=(100, 32)) as pilot:
        await open_form(pilot)
        await pilot.press(*"-x", "tab", "tab", *"bash", "escape")
        await pilot.pause()
        assert not isinstance(app.screen, NewAgentScreen)
        assert config_text(configured) == CONFIG
        assert configured.calls == []


@pytest.mark.asyncio
async def test_a_missing_corral_toml_is_created_with_the_agent(herd: FakeHerd) -> None:
    app = corral(herd)
    async with app.run_test(size=(100, 32)) as pilot:
        await open_form(pilot)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: herd.calls, what="the start")
        assert herd.calls == [("reload_config", None), ("up", ("claude-1",))]
        text = (herd.repo.root / "corral.toml").read_text()
        assert text.startswith("# corral.toml: ")
        assert text == HEADER + "\n" + render_agent(AgentFields(name="claude-1", kind="claude"))
        assert tomllib.loads(text) == {
            "agent": [{"name": "claude-1", "kind": "claude", "restart": "never"}]
        }


def test_new_agent_form(snap_compare: SnapCompare, tmp_path: Path) -> None:
    herd = make_herd(tmp_path / "project")
    app = corral(herd)

    async def run_before(pilot: Pilot[Any]) -> None:
        form = await open_form(pilot)
        for field in form.query(Input):
            field.cursor_blink = False
        form.query_one(TextArea).cursor_blink = False
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
