"""corral's tmux adapter on a server the test owns (libtmux's `server` fixture): the control
plane through libtmux, looking through corral's own command lines, on the same server."""

from __future__ import annotations

from pathlib import Path

import libtmux
import pytest

from sessions.adapters.tmux import Tmux, tmux_version
from sessions.core.errors import TmuxError
from tests.helpers import wait_for

pytestmark = pytest.mark.tmux


def test_text_typed_and_pasted_arrives_literally_on_a_server_the_caller_owns(
    server: libtmux.Server, tmp_path: Path
) -> None:
    tmux = Tmux.on(server)
    pane = tmux.new_pane("typist", tmp_path, ["cat", "-v"], {}, 100, 30)
    assert [p.pane_id for p in server.panes] == [pane]
    assert [info.agent for info in tmux.panes()] == ["typist"]

    tmux.send_text(pane, "-l -- begins with a dash", enter=True)
    wait_for(lambda: "-l -- begins with a dash" in tmux.capture(pane), what="typed text")
    tmux.send_text(pane, "first line\nsecond line", enter=False)
    wait_for(lambda: "second line" in tmux.capture(pane), what="pasted text")
    assert "first line\nsecond line" in tmux.capture(pane)

    tmux.kill_session("typist")
    tmux.kill_session("typist")  # gone already: no failure
    tmux.kill_server()
    tmux.kill_server()
    assert tmux.panes() == []


def test_the_version_is_asked_again_only_of_a_changed_binary(tmp_path: Path) -> None:
    """Every command checks tmux's version; with a file to keep it in, `tmux -V` runs once per
    binary, and again when the binary is replaced (an upgrade, or a downgrade too far)."""
    log = tmp_path / "asked.log"
    binary = tmp_path / "tmux"
    binary.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\necho "tmux 3.4"\n')
    binary.chmod(0o755)
    known = tmp_path / "cache" / "tmux_version.json"

    def asked() -> int:
        return len(log.read_text().splitlines()) if log.exists() else 0

    assert tmux_version(str(binary), known) == (3, 4)
    assert tmux_version(str(binary), known) == (3, 4)
    assert asked() == 1
    assert tmux_version(str(binary)) == (3, 4)
    assert asked() == 2, "without a file, asked every time"

    replaced = tmp_path / "tmux.new"
    replaced.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\necho "tmux 2.9"\n')
    replaced.chmod(0o755)
    replaced.replace(binary)
    with pytest.raises(TmuxError, match="too old"):
        tmux_version(str(binary), known)
    assert asked() == 3
