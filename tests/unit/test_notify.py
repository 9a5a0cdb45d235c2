"""The bytes corral writes to the terminal for an alert, and the notify-send it runs: exact
sequences, tmux passthrough, agent text that tries to escape, and a real notify-send stand-in
on a private PATH that records what it was given."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from textual.app import App

from sessions.core.alert_values import Alert, Cause, Item
from sessions.core.model import UserSettings
from tui.notify import (
    BODY_MAX,
    Notifier,
    clean,
    desktop_sequences,
    notify_send_argv,
    osc9,
    osc777,
    run_command,
    tmux_passthrough,
)

ALERT = Alert(
    "corral: b needs input",
    "b needs input (permission dialog)",
    (Item(Cause.NEEDS_INPUT, ("b",), "b needs input", "permission dialog"),),
)
PLAIN = {"TERM": "xterm-256color", "PATH": ""}
EVIL = "x\x1b]0;owned\x07\x1b[2J\x9b31m\x9d8;;http://e\x9c\u202eevil\u200b;y\r\nz\x00\x7f"


def alert(title: str, body: str) -> Alert:
    return Alert(title, body, ())


class Terminal:
    """What the notifier wrote, in order."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.ran: list[list[str]] = []
        self.rang = 0

    def write(self, text: str) -> None:
        self.out.append(text)

    def run(self, argv: list[str]) -> None:
        self.ran.append(argv)

    def bell(self) -> None:
        self.rang += 1


def notifier(
    terminal: Terminal,
    env: dict[str, str] | None = None,
    with_bell: bool = False,
    bell: bool = True,
    desktop: bool = True,
    notify_send: bool = False,
) -> Notifier:
    return Notifier(
        UserSettings(bell=bell, desktop=desktop, notify_send=notify_send),
        terminal.write,
        terminal.run,
        bell=terminal.bell if with_bell else None,
        env=PLAIN if env is None else env,
    )


@pytest.fixture
def recorder(tmp_path: Path) -> tuple[Path, Path]:
    """A notify-send on a PATH of its own that appends its arguments to a file as JSON."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "argv.jsonl"
    script = bin_dir / "notify-send"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"with open({str(record)!r}, 'a') as out:\n"
        "    out.write(json.dumps(sys.argv[1:]) + '\\n')\n"
    )
    script.chmod(0o755)
    return bin_dir, record


def recorded(record: Path) -> list[list[str]]:
    return [json.loads(line) for line in record.read_text().splitlines()]


# -- exact sequences ------------------------------------------------------------------------


def test_osc9_is_the_text_between_esc_bracket_9_and_bel() -> None:
    assert osc9("b needs input") == "\x1b]9;b needs input\x07"


def test_osc777_carries_title_and_body() -> None:
    assert osc777("corral", "b needs input") == "\x1b]777;notify;corral;b needs input\x07"


def test_tmux_passthrough_doubles_every_esc_and_ends_with_st() -> None:
    assert tmux_passthrough("\x1b]9;hi\x07") == "\x1bPtmux;\x1b\x1b]9;hi\x07\x1b\\"


def test_a_plain_terminal_gets_the_bell_and_both_sequences() -> None:
    terminal = Terminal()
    notifier(terminal).emit(ALERT)
    assert terminal.out == [
        "\x1b]9;b needs input (permission dialog)\x07",
        "\x1b]777;notify;corral: b needs input;b needs input (permission dialog)\x07",
        "\x07",
    ]
    assert terminal.ran == []


def test_the_bell_goes_through_the_apps_bell_when_given() -> None:
    terminal = Terminal()
    notifier(terminal, with_bell=True, desktop=False).emit(ALERT)
    assert terminal.out == [] and terminal.rang == 1


@pytest.mark.parametrize(
    ("env", "kinds"),
    [
        ({"TERM_PROGRAM": "iTerm.app"}, ["9"]),
        ({"TERM": "xterm-256color", "LC_TERMINAL": "iTerm2"}, ["9"]),
        ({"TERM": "xterm-256color", "VTE_VERSION": "7600"}, ["777"]),
        ({"TERM": "foot"}, ["777"]),
        ({"TERM": "rxvt-unicode-256color"}, ["777"]),
        ({"TERM_PROGRAM": "WezTerm"}, ["777"]),
        ({"TERM": "xterm-ghostty"}, ["777"]),
        ({"TERM": "xterm-256color"}, ["9", "777"]),
        ({}, ["9", "777"]),
    ],
)
def test_a_known_terminal_gets_the_one_sequence_it_reads(
    env: dict[str, str], kinds: list[str]
) -> None:
    sequences = desktop_sequences(ALERT, env)
    assert [s.split(";")[0].removeprefix("\x1b]") for s in sequences] == kinds


def test_inside_tmux_every_sequence_is_passed_through() -> None:
    terminal = Terminal()
    env = {"TMUX": "/tmp/tmux-1000/default,1234,0", "TERM": "tmux-256color"}
    notifier(terminal, env=env).emit(alert("t", "b"))
    assert terminal.out == [
        "\x1bPtmux;\x1b\x1b]9;b\x07\x1b\\",
        "\x1bPtmux;\x1b\x1b]777;notify;t;b\x07\x1b\\",
        "\x07",
    ]


def test_each_channel_has_its_switch() -> None:
    terminal = Terminal()
    notifier(terminal, bell=False, desktop=False, notify_send=False).emit(ALERT)
    assert terminal.out == [] and terminal.ran == []
    notifier(terminal, bell=False).emit(ALERT)
    assert terminal.out == [osc9(ALERT.body), osc777(ALERT.title, ALERT.body)]
    terminal.out.clear()
    notifier(terminal, desktop=False).emit(ALERT)
    assert terminal.out == ["\x07"]


# -- injection ------------------------------------------------------------------------------


def test_clean_leaves_no_control_or_format_character() -> None:
    cleaned = clean(EVIL, 200)
    assert cleaned == "x]0,owned[2J31m8,,http://eevil,y z"


def test_agent_text_cannot_end_or_start_a_sequence() -> None:
    terminal = Terminal()
    notifier(terminal, env={"TMUX": "x"}).emit(alert(EVIL, EVIL))
    clean_text = "x]0,owned[2J31m8,,http://eevil,y z"
    assert terminal.out == [
        f"\x1bPtmux;\x1b\x1b]9;{clean_text}\x07\x1b\\",
        f"\x1bPtmux;\x1b\x1b]777;notify;{clean_text};{clean_text}\x07\x1b\\",
        "\x07",
    ]


def test_a_semicolon_cannot_add_a_field_to_osc777() -> None:
    assert osc777("a;b", "c;d") == "\x1b]777;notify;a,b;c,d\x07"


def test_long_text_is_capped() -> None:
    sequence = osc9("word " * 200)
    text = sequence.removeprefix("\x1b]9;").removesuffix("\x07")
    assert len(text) == BODY_MAX and text.endswith("…")


# -- notify-send ----------------------------------------------------------------------------


def test_notify_send_argv_ends_options_and_escapes_markup() -> None:
    argv = notify_send_argv("/usr/bin/notify-send", alert("-u critical", "a <b>&c</b>\x1b[1m"))
    assert argv == [
        "/usr/bin/notify-send",
        "--app-name=corral",
        "--",
        "-u critical",
        "a &lt;b&gt;&amp;c&lt;/b&gt;[1m",
    ]


def test_notify_send_on_path_runs_with_the_alert(recorder: tuple[Path, Path]) -> None:
    bin_dir, record = recorder
    terminal = Terminal()
    sender = notifier(terminal, env={"PATH": str(bin_dir)}, notify_send=True)
    assert sender.notify_send == str(bin_dir / "notify-send")
    sender.emit(alert("-corral: b needs input", f"b needs input {EVIL}"))
    assert len(terminal.ran) == 1
    assert run_command(terminal.ran[0]) is None
    assert recorded(record) == [
        [
            "--app-name=corral",
            "--",
            "-corral: b needs input",
            "b needs input x]0,owned[2J31m8,,http://eevil,y z",
        ]
    ]


def test_notify_send_is_not_run_when_off_or_missing(recorder: tuple[Path, Path]) -> None:
    bin_dir, _ = recorder
    terminal = Terminal()
    off = notifier(terminal, env={"PATH": str(bin_dir)}, notify_send=False)
    missing = notifier(terminal, env={"PATH": str(bin_dir.parent)}, notify_send=True)
    assert off.notify_send is None and missing.notify_send is None
    off.emit(ALERT)
    missing.emit(ALERT)
    assert terminal.ran == []


def test_run_command_gives_up_at_its_timeout(tmp_path: Path) -> None:
    slow = tmp_path / "slow"
    slow.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(30)\n")
    slow.chmod(0o755)
    started = time.monotonic()
    assert run_command([str(slow)], timeout=0.5) == f"{slow} did not finish within 0.5 s"
    assert time.monotonic() - started < 5


def test_run_command_reports_failure_in_one_sentence(tmp_path: Path) -> None:
    failing = tmp_path / "failing"
    failing.write_text(f"#!{sys.executable}\nimport sys\nsys.exit('no bus')\n")
    failing.chmod(0o755)
    assert run_command([str(failing)]) == f"{failing} failed with code 1: no bus"
    missing = run_command([str(tmp_path / "absent")])
    assert missing is not None and missing.startswith(f"{tmp_path / 'absent'} could not run")


# -- in a Textual app -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_for_app_runs_notify_send_in_a_worker(
    recorder: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir, record = recorder
    monkeypatch.setenv("PATH", str(bin_dir))
    app: App[None] = App()
    async with app.run_test() as pilot:
        sender = Notifier.for_app(app, UserSettings(notify_send=True))
        sender.emit(ALERT)
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert recorded(record) == [
        ["--app-name=corral", "--", "corral: b needs input", "b needs input (permission dialog)"]
    ]
