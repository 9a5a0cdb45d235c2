"""Process trees read from /proc: what freezing, thawing and a runner's sweep walk."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator

import pytest

from sessions.adapters.processes import freeze, is_frozen, state, thaw, tree
from tests.helpers import wait_for


@pytest.fixture
def family() -> Iterator[subprocess.Popen[bytes]]:
    """A shell with two children of its own, the way an agent runs its tools."""
    shell = subprocess.Popen(["sh", "-c", "sleep 60 & sleep 60 & wait"])
    wait_for(lambda: len(tree(shell.pid)) == 3, what="the shell's two children")
    yield shell
    for pid in reversed(tree(shell.pid)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
            os.kill(pid, signal.SIGKILL)
    shell.wait(timeout=10)


def test_a_tree_is_the_process_and_everything_below_it_parents_first(
    family: subprocess.Popen[bytes],
) -> None:
    found = tree(family.pid)
    assert found[0] == family.pid and len(found) == 3
    assert all(state(pid) in ("sleeping", "running") for pid in found)


def test_freezing_stops_the_whole_tree_and_thawing_continues_it(
    family: subprocess.Popen[bytes],
) -> None:
    assert freeze(family.pid) == 3
    wait_for(lambda: is_frozen(family.pid), what="every process stopped")
    assert {state(pid) for pid in tree(family.pid)} == {"stopped"}
    assert thaw(family.pid) == 3
    wait_for(lambda: not is_frozen(family.pid), what="every process running again")


def test_a_process_that_is_gone_has_no_tree_and_no_state() -> None:
    done = subprocess.Popen(["true"])
    done.wait(timeout=10)
    assert tree(done.pid) == [] and state(done.pid) is None
