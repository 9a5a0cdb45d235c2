"""The command line parsed by a parser of only the command it names reads exactly as the
parser of every command would: the same values, the same help, the same errors."""

from __future__ import annotations

import argparse
import contextlib
import io
from collections.abc import Callable, Sequence

import pytest

from tui import cli

LINES = [
    ["ls", "--json"],
    ["--repo", "/tmp", "ls"],
    ["--repo=/tmp", "ls", "--json"],
    ["ls", "--repo", "/x", "--json"],
    ["ls", "-h"],
    ["ls", "--bogus"],
    ["ls", "extra"],
    ["watch", "--every", "0"],
    ["watch", "--every", "2", "--json"],
    ["log", "-n", "many"],
    ["log", "a", "-n", "3", "--json"],
    ["locks"],
    ["locks", "release", "current_tasks/x.md", "--force"],
    ["locks", "release"],
    ["locks", "release", "-h"],
    ["up", "a", "b"],
    ["pause", "--all"],
    ["send", "a", "-", "--replace"],
    ["merge", "a", "--preview", "--json"],
    ["demo", "--no-tui", "--speed", "0.3"],
    ["init", "--agents", "claude:2"],
    ["-h"],
    ["nope"],
    ["--repo"],
    ["--repo", "/tmp"],
    [],
    ["--rep", "/tmp", "ls"],
]

Parse = Callable[[Sequence[str]], argparse.Namespace]


def outcome(parse: Parse, words: list[str]) -> tuple[object, ...]:
    out, err = io.StringIO(), io.StringIO()
    values, code = None, None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            values = vars(parse(words))
        except SystemExit as exit:
            code = exit.code
    return values, code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("words", LINES, ids=" ".join)
def test_one_command_parser_reads_as_the_full_one(words: list[str]) -> None:
    full = outcome(lambda line: cli.build_parser().parse_args(line), words)
    assert outcome(cli.parse, words) == full


def test_a_named_command_builds_only_its_own_parser() -> None:
    parser = cli.build_parser("ls")
    commands = next(
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    )
    assert list(commands.choices) == ["ls"]
    assert len(commands.choices) < len(cli.COMMANDS)
