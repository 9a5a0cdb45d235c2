"""Adding an agent to corral.toml: the user's text kept byte for byte, the new table where a
reader expects it, and every refusal in the parser's own words with the file untouched."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

import pytest

from sessions.adapters.config import load_config
from sessions.adapters.config_writer import HEADER, add_agent, render_agent, with_agent
from sessions.adapters.repo import Repo
from sessions.adapters.tmux import Tmux
from sessions.core.agent_fields import AgentFields, suggest_name
from sessions.core.errors import ConfigError
from sessions.core.model import AgentSpec, Kind, Restart
from sessions.supervisor import Supervisor

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"

# Comments, odd spacing, a commented-out key, a sub-table and no blank line at the end: all of
# it must come through exactly.
USER = """\
# My herd.   Two spaces after the full stop, on purpose.
base   =   "main"

[[agent]]
# The reviewer: reads only.
name = 'claude-1'     # single quotes, kept
kind = "claude"
#   restart = "always"

[agent.env]
DISABLE_AUTOUPDATER = "1"
"""


def codex() -> AgentFields:
    return AgentFields(name="codex-1", kind=Kind.CODEX, restart=Restart.ON_FAILURE)


# The table corral renders for codex(). Built with corral's own renderer, so these tests pin
# where it goes and what around it is kept, not how tomlkit happens to quote a string; what the
# table says is pinned by test_the_new_table_parses_back_to_its_fields_in_order.
NEW_TABLE = render_agent(codex())


def config_at(tmp_path: Path, text: str | None) -> Path:
    path = tmp_path / "corral.toml"
    if text is not None:
        path.write_text(text)
    return path


def test_the_new_table_parses_back_to_its_fields_in_order() -> None:
    """NEW_TABLE stands in for literal bytes elsewhere, so what it says is checked here: one
    [[agent]] table, ending with a line end, with the fields in the order a reader expects."""
    assert NEW_TABLE.startswith("[[agent]]\n") and NEW_TABLE.endswith("\n")
    assert NEW_TABLE.count("[[agent]]") == 1
    agents = tomllib.loads(NEW_TABLE)["agent"]
    assert agents == [{"name": "codex-1", "kind": "codex", "restart": "on-failure"}]
    assert list(agents[0]) == ["name", "kind", "restart"]


def test_the_users_text_is_a_prefix_and_the_table_follows_a_blank_line(tmp_path: Path) -> None:
    path = config_at(tmp_path, USER)
    message = add_agent(path, codex())
    assert path.read_text() == USER + "\n" + NEW_TABLE
    assert message == f"codex-1 (codex) added to {path}:13"


def test_a_file_without_a_last_line_end_gets_one_and_nothing_else(tmp_path: Path) -> None:
    path = config_at(tmp_path, USER.rstrip("\n"))
    add_agent(path, codex())
    assert path.read_text() == USER + "\n" + NEW_TABLE


def test_the_example_config_takes_an_agent_at_its_end(tmp_path: Path) -> None:
    text = EXAMPLE.read_text()
    path = config_at(tmp_path, text)
    add_agent(path, AgentFields(name="claude-2", kind="claude"))
    new = path.read_text()
    assert new.startswith(text)
    table = render_agent(AgentFields(name="claude-2", kind="claude"))
    assert new[len(text) :] == "\n" + table
    assert tomllib.loads(table)["agent"] == [
        {"name": "claude-2", "kind": "claude", "restart": "never"}
    ]


def test_with_tables_after_the_agents_it_goes_after_the_last_agent(tmp_path: Path) -> None:
    roles = "# Roles come next: this comment is about them.\n[roles]\nwindow_minutes = 10\n"
    text = USER + "\n" + roles
    path = config_at(tmp_path, text)
    add_agent(path, codex())
    # Before the comment that introduces [roles], with a blank line between them.
    assert path.read_text() == USER + "\n" + NEW_TABLE + "\n" + roles
    config = load_config(tmp_path)
    assert [agent.name for agent in config.agents] == ["claude-1", "codex-1"]
    assert config.agents[0].env == (("DISABLE_AUTOUPDATER", "1"),)  # still the reviewer's
    assert config.rules is not None and config.rules.roles.window == 600.0


def test_a_header_inside_a_multi_line_string_is_no_place_for_it(tmp_path: Path) -> None:
    text = '[[agent]]\nname = "a"\nkind = "sim"\nprompt = """\n[roles]\n"""\n[roles]\n'
    new, config = with_agent(text, codex(), tmp_path / "corral.toml")
    assert new == (
        '[[agent]]\nname = "a"\nkind = "sim"\nprompt = """\n[roles]\n"""\n'
        + "\n"
        + NEW_TABLE
        + "\n[roles]\n"
    )
    assert config.agents[0].prompt == "[roles]\n"
    assert config.agents[1].name == "codex-1"


def test_a_missing_file_is_created_with_a_header(tmp_path: Path) -> None:
    path = config_at(tmp_path, None)
    add_agent(path, codex())
    assert path.read_text() == HEADER + "\n" + NEW_TABLE
    assert HEADER.startswith("# corral.toml: ") and HEADER.endswith("config.example.toml.\n")
    expected = stat.S_IMODE(0o666 & ~_umask())
    assert stat.S_IMODE(path.stat().st_mode) == expected
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_the_file_keeps_its_mode(tmp_path: Path) -> None:
    path = config_at(tmp_path, USER)
    path.chmod(0o640)
    add_agent(path, codex())
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corral.toml"]


def test_every_field_parses_back_to_the_agent_it_describes(tmp_path: Path) -> None:
    path = config_at(tmp_path, USER)
    fields = AgentFields(
        name="aider-1",
        kind="aider",
        command='aider --model "gpt 5"',
        args=("--no-auto-commits",),
        prompt='Read "PROGRESS.md"\r\nthen take a task \\ done',
        restart="always",
    )
    add_agent(path, fields)
    assert load_config(tmp_path).agents[-1] == AgentSpec(
        name="aider-1",
        kind=Kind.AIDER,
        command=("aider", "--model", "gpt 5"),
        prompt='Read "PROGRESS.md"\nthen take a task \\ done',
        restart=Restart.ALWAYS,
        args=("--no-auto-commits",),
    )
    # The values as written, not tomlkit's quoting: quotes and a backslash survive, the prompt's
    # CRLF becomes a newline, and the keys come in the order a reader expects.
    text = path.read_text()
    assert text.startswith(USER + "\n")
    written = tomllib.loads(text)["agent"][-1]
    assert written == {
        "name": "aider-1",
        "kind": "aider",
        "command": 'aider --model "gpt 5"',
        "args": ["--no-auto-commits"],
        "prompt": 'Read "PROGRESS.md"\nthen take a task \\ done',
        "restart": "always",
    }
    assert list(written) == ["name", "kind", "command", "args", "prompt", "restart"]
    # A multi-line prompt reads in the file the way it was typed: its second line is a line.
    assert any(line.startswith("then take a task ") for line in text.splitlines())


def test_a_command_given_as_an_argv_is_written_as_an_array() -> None:
    fields = AgentFields(name="shell-1", kind="shell", command=("make", "watch"))
    written = tomllib.loads(render_agent(fields))["agent"]
    assert written == [
        {"name": "shell-1", "kind": "shell", "command": ["make", "watch"], "restart": "never"}
    ]
    assert list(written[0]) == ["name", "kind", "command", "restart"]
    assert isinstance(written[0]["command"], list)


def test_crlf_files_get_crlf_lines(tmp_path: Path) -> None:
    text = USER.replace("\n", "\r\n")
    path = config_at(tmp_path, None)
    path.write_bytes(text.encode())
    add_agent(path, codex())
    assert path.read_bytes() == (text + "\r\n" + NEW_TABLE.replace("\n", "\r\n")).encode()


def refused(path: Path, fields: AgentFields) -> str:
    before = path.read_bytes() if path.exists() else None
    with pytest.raises(ConfigError) as caught:
        add_agent(path, fields)
    assert (path.read_bytes() if path.exists() else None) == before
    assert sorted(p.name for p in path.parent.iterdir()) == (["corral.toml"] if before else [])
    return str(caught.value)


def test_a_duplicate_name_is_refused_with_the_parsers_sentence(tmp_path: Path) -> None:
    path = config_at(tmp_path, USER)
    message = refused(path, AgentFields(name="claude-1", kind="claude"))
    assert message == (
        f'{path}:14: agent[2].name: "claude-1" is already the name of agent[1] on line 6: '
        "give every agent its own name"
    )


def test_a_bad_kind_is_refused(tmp_path: Path) -> None:
    path = config_at(tmp_path, USER)
    message = refused(path, AgentFields(name="robot-1", kind="robot"))
    assert message == (
        f'{path}:15: agent[2].kind: is "robot": it must be one of claude, codex, gemini, aider, '
        "shell, sim"
    )


def test_a_bad_name_is_refused_and_no_file_is_created(tmp_path: Path) -> None:
    path = config_at(tmp_path, None)
    message = refused(path, AgentFields(name="Claude One", kind="claude"))
    assert message.startswith(f'{path}:5: agent[1].name: is "Claude One": use lowercase letters')


def test_a_shell_agent_needs_a_command(tmp_path: Path) -> None:
    path = config_at(tmp_path, USER)
    message = refused(path, AgentFields(name="shell-1", kind="shell"))
    assert "agent[2].command: is missing: a shell agent runs the command you give" in message


def test_a_broken_toml_file_is_left_untouched(tmp_path: Path) -> None:
    path = config_at(tmp_path, USER + 'oops = "unterminated\n')
    message = refused(path, codex())
    assert message.startswith(f"{path}:12: is not valid TOML: ")
    assert message.endswith("corral left the file untouched and did not add codex-1: fix it first")


def test_a_mistake_already_in_the_file_is_named_first(tmp_path: Path) -> None:
    path = config_at(tmp_path, USER.replace('base   =   "main"', "bsae = 1"))
    message = refused(path, codex())
    assert message.startswith(f'{path}:2: bsae: is not a known key (did you mean "base"?)')


def test_agents_in_an_inline_array_cannot_take_a_table(tmp_path: Path) -> None:
    path = config_at(tmp_path, 'agent = [{ name = "a", kind = "sim" }]\n')
    message = refused(path, codex())
    assert message.startswith(f"{path}: agent: cannot take a new [[agent]] table")


def test_a_file_that_is_not_utf8_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "corral.toml"
    path.write_bytes(b'base = "\xff"\n')
    assert "is not UTF-8 text" in refused(path, codex())


def test_a_symlinked_config_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "kept" / "corral.toml"
    real.parent.mkdir()
    real.write_text(USER)
    link = tmp_path / "repo" / "corral.toml"
    link.parent.mkdir()
    link.symlink_to(real)
    add_agent(link, codex())
    assert link.is_symlink()
    assert real.read_text() == USER + "\n" + NEW_TABLE


@pytest.mark.parametrize(
    ("kind", "names", "expected"),
    [
        ("claude", [], "claude-1"),
        ("claude", ["claude-1", "claude-2", "codex-1"], "claude-3"),
        ("claude", ["claude-1", "claude-4"], "claude-5"),  # a removed agent's name stays free
        ("codex", ["claude-1", "claude-2"], "codex-1"),
        ("claude", ["claude-x", "claude-", "myclaude-9"], "claude-1"),
        (Kind.SIM, ["sim-1"], "sim-2"),
    ],
)
def test_suggest_name(kind: str, names: list[str], expected: str) -> None:
    assert suggest_name(kind, names) == expected


def test_a_supervisor_sees_the_new_agent_once_it_reloads(tmp_path: Path) -> None:
    path = config_at(tmp_path, USER)
    repo = Repo(root=tmp_path, common_dir=tmp_path / ".git")
    supervisor = Supervisor(
        repo, load_config(tmp_path), Tmux("corral-unused", tmux_bin="/bin/false")
    )
    add_agent(path, codex())
    assert [spec.name for spec in supervisor.specs()] == ["claude-1"]  # read at open
    supervisor.reload_config()
    assert [spec.name for spec in supervisor.specs()] == ["claude-1", "codex-1"]
    assert supervisor.spec("codex-1").restart is Restart.ON_FAILURE
