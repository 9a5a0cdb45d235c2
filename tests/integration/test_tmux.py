"""corral's tmux adapter on a server the test owns (libtmux's `server` fixture): the control
plane through libtmux, looking through corral's own command lines, on the same server."""

from __future__ import annotations

from pathlib import Path

import libtmux
import pytest

from sessions.adapters.tmux import Tmux
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
