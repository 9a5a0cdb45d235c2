"""Reading the `[[agent]]` tables of corral.toml into agent specs.

Keys inside agents are written `agent[N].key`, N counting `[[agent]]` entries from 1 as a reader
counts them in the file, so the same spelling works for an agent whose name is missing or bad.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence
from pathlib import Path

from sessions.adapters.toml_check import Document, KeyPath, Section, describe, key_name
from sessions.core.model import NAME_PATTERN, AgentSpec, Kind, Restart

# Under Linux's 128 KiB limit on one word of a command line or environment, with room to spare.
MAX_PROMPT_BYTES = 100_000
AGENT_KEYS = ("name", "kind", "command", "args", "prompt", "prompt_file", "restart", "env")
REQUIRED_AGENT_KEYS = ("name", "kind")
ENV_NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def parse_agents(top: Section, root: Path) -> tuple[AgentSpec, ...]:
    """Every agent of the document, in file order; `root` is where `prompt_file` is read from."""
    agents = tuple(_agent(top.doc, index, value, root) for index, value in enumerate(_agents(top)))
    _check_unique(top.doc, agents)
    return agents


def _agents(top: Section) -> list[object]:
    value = top.values.get("agent")
    if value is None:
        return []
    if not isinstance(value, list):
        raise top.error(
            "agent",
            f"must be an array of tables, one [[agent]] header per agent, not {describe(value)}",
        )
    return value


def _agent(doc: Document, index: int, value: object, root: Path) -> AgentSpec:
    where: KeyPath = ("agent", index)
    if not isinstance(value, dict):
        raise doc.error(where, f"must be a table of agent keys, not {describe(value)}")
    section = Section(doc, where, value)
    section.check_keys(AGENT_KEYS)
    section.require(REQUIRED_AGENT_KEYS)
    name = _name(section)
    kind = section.choice("kind", Kind)
    assert kind is not None
    command = _argv(section, "command", ["claude", "--verbose"])
    if kind is Kind.SHELL and not command:
        raise section.error(
            "command", 'is missing: a shell agent runs the command you give, such as "make watch"'
        )
    return AgentSpec(
        name=name,
        kind=kind,
        command=command,
        prompt=_prompt(section, root),
        restart=section.choice("restart", Restart) or Restart.NEVER,
        env=_env(section),
        args=_argv(section, "args", ["--model", "opus"], empty_ok=True),
    )


def _name(section: Section) -> str:
    name = section.text("name", "claude-1")
    assert name is not None
    if not NAME_PATTERN.match(name):
        raise section.error(
            "name",
            f"is {json.dumps(name)}: use lowercase letters, digits and '-', starting with a "
            "letter or digit, at most 40 characters (such names never need quoting in a shell, "
            "tmux or git)",
        )
    return name


def _argv(
    section: Section, key: str, example: list[str], empty_ok: bool = False
) -> tuple[str, ...]:
    """A command line as an array, or as a string split the way a shell would split it; it is
    never run through a shell, so quoting is all a string can express."""
    shown = json.dumps(shlex.join(example))
    expected = f"a string such as {shown} or an array of strings"
    value = section.typed(key, (str, list), expected)
    if value is None:
        return ()
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as error:
            raise section.error(
                key, f"cannot be split into words ({error}): close the quote or use an array"
            ) from error
    else:
        assert isinstance(value, list)
        for item in value:
            if not isinstance(item, str):
                raise section.error(key, f"must be an array of strings; it holds {describe(item)}")
        argv = value
    if not argv and not empty_ok:
        raise section.error(key, f"is empty: give a program to run, such as {shown}")
    if argv and not argv[0].strip():
        raise section.error(key, "starts with an empty word: the first word is the program to run")
    return tuple(argv)


def _prompt(section: Section, root: Path) -> str | None:
    prompt = section.text("prompt", "Read PROGRESS.md and take the next task")
    relative = section.text("prompt_file", "prompts/claude.md")
    if relative is None:
        return _bounded(section, "prompt", prompt)
    if prompt is not None:
        raise section.error("prompt_file", "cannot go with prompt: keep one of the two")
    file = root / relative
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise section.error(
            "prompt_file", f"names {file}, which does not exist (the path is relative to {root})"
        ) from error
    except (OSError, UnicodeDecodeError) as error:
        raise section.error(
            "prompt_file", f"names {file}, which cannot be read: {error}"
        ) from error
    if not text.strip():
        raise section.error("prompt_file", f"names {file}, which is empty: write the prompt in it")
    return _bounded(section, "prompt_file", text)


def _bounded(section: Section, key: str, prompt: str | None) -> str | None:
    """The prompt reaches the agent as one word of its command line (or of its environment),
    and Linux refuses a word over 128 KiB, so a longer one would leave the agent unstartable."""
    if prompt is None:
        return None
    size = len(prompt.encode())
    if size > MAX_PROMPT_BYTES:
        raise section.error(
            key,
            f"gives a prompt of {size:,} bytes, over the {MAX_PROMPT_BYTES:,} an agent's command "
            "line can take: put the long text in a file in the repository and prompt the agent "
            "to read it",
        )
    return prompt


def _env(section: Section) -> tuple[tuple[str, str], ...]:
    env = section.table("env", 'env = { NAME = "value" }')
    if env is None:
        return ()
    for key, value in env.values.items():
        if not ENV_NAME_PATTERN.match(key):
            raise env.error(
                key,
                "is not a variable name: use letters, digits and '_', not starting with a digit",
            )
        if not isinstance(value, str):
            raise env.error(
                key, f"must be a string, not {describe(value)}: put the value in quotes"
            )
    return tuple((key, str(value)) for key, value in env.values.items())


def _check_unique(doc: Document, agents: Sequence[AgentSpec]) -> None:
    first: dict[str, int] = {}
    for index, spec in enumerate(agents):
        if spec.name in first:
            earlier: KeyPath = ("agent", first[spec.name], "name")
            raise doc.error(
                ("agent", index, "name"),
                f"{json.dumps(spec.name)} is already the name of {key_name(earlier[:2])} on line "
                f"{doc.locator.line_of(earlier)}: give every agent its own name",
            )
        first[spec.name] = index
