"""Telling the user an `Alert`: the terminal bell, the terminal's own desktop notification, and
`notify-send`, each behind its `[notifications]` switch.

The terminal is the one channel that reaches the user wherever corral runs (over ssh, inside
tmux), so the bell and the desktop notification are written to it as escape sequences. Their
text comes from agents (state reasons, paths, conflict details), so every byte that could end
the sequence or start another one is removed first: an agent must never be able to make the
user's terminal do anything.

Terminals disagree on the sequence: iTerm2 reads OSC 9 (text only); VTE, foot, rxvt, Konsole,
WezTerm and Ghostty read OSC 777 (title and body). A known terminal gets the one it
reads, so it shows one notification, not two; an unknown one gets both, since a terminal
ignores an OSC it does not know. Inside tmux each sequence is wrapped so tmux passes it to the
terminal outside (tmux 3.3 and later also need `set -g allow-passthrough on`).

`notify-send` is a process, so the `Notifier` only builds its argument list and hands it to the
caller's `run`, which runs it off the UI thread; `run_command` is what that worker calls.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import unicodedata
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from sessions.core.alert_values import Alert
from sessions.core.model import UserSettings

if TYPE_CHECKING:
    from textual.app import App

BELL = "\a"
TITLE_MAX = 80
BODY_MAX = 240
NOTIFY_SEND = "notify-send"
NOTIFY_SEND_TIMEOUT = 5.0

# Terminals that read OSC 777 (with a title) and those that read only OSC 9, by a name found in
# TERM, TERM_PROGRAM or LC_TERMINAL, or by a variable only that terminal sets.
_READS_777 = ("ghostty", "wezterm", "foot", "rxvt", "konsole")
_READS_9 = ("iterm",)
_MARKERS = {
    "VTE_VERSION": "vte",
    "WEZTERM_PANE": "wezterm",
    "GHOSTTY_RESOURCES_DIR": "ghostty",
}


def clean(text: str, limit: int) -> str:
    """`text` safe inside an escape sequence and short enough for a notification.

    Every control and format character goes (ESC, BEL, the C1 range with its one-byte CSI and
    ST, bidirectional overrides, zero-width marks); line breaks and tabs become spaces, runs
    of spaces one. `;` becomes `,` because it separates the fields of OSC 777 and some
    terminals split OSC 9 on it too.
    """
    kept = []
    for char in text:
        if char.isspace():
            kept.append(" ")
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        else:
            kept.append("," if char == ";" else char)
    flat = " ".join("".join(kept).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def osc9(text: str) -> str:
    """iTerm2's notification: the text alone."""
    return f"\x1b]9;{clean(text, BODY_MAX)}\x07"


def osc777(title: str, body: str) -> str:
    """rxvt's notification, also read by VTE, foot and others: a title and a body."""
    return f"\x1b]777;notify;{clean(title, TITLE_MAX)};{clean(body, BODY_MAX)}\x07"


def tmux_passthrough(sequence: str) -> str:
    """`sequence` wrapped in tmux's DCS passthrough, so tmux hands it to the outer terminal
    instead of reading it itself: every ESC inside is doubled."""
    return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"


def terminal_names(env: Mapping[str, str]) -> str:
    """What the terminal is called, as far as the environment tells, in one lowercase string."""
    names = [env.get(key, "") for key in ("TERM", "TERM_PROGRAM", "LC_TERMINAL")]
    names += [name for key, name in _MARKERS.items() if env.get(key)]
    return " ".join(names).lower()


def desktop_sequences(alert: Alert, env: Mapping[str, str]) -> tuple[str, ...]:
    """The escape sequences that show `alert` as a desktop notification in this terminal."""
    names = terminal_names(env)
    if any(name in names for name in _READS_9):
        sequences: tuple[str, ...] = (osc9(alert.body),)
    elif "vte" in names or any(name in names for name in _READS_777):
        sequences = (osc777(alert.title, alert.body),)
    else:
        sequences = (osc9(alert.body), osc777(alert.title, alert.body))
    if env.get("TMUX"):
        sequences = tuple(tmux_passthrough(s) for s in sequences)
    return sequences


def notify_send_argv(program: str, alert: Alert) -> list[str]:
    """notify-send's arguments: `--` first so a title starting with `-` is no option, and the
    body's markup characters escaped because notification servers may render it as markup."""
    body = clean(alert.body, BODY_MAX)
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        body = body.replace(char, entity)
    return [program, "--app-name=corral", "--", clean(alert.title, TITLE_MAX), body]


def run_command(argv: list[str], timeout: float = NOTIFY_SEND_TIMEOUT) -> str | None:
    """Run `argv` without a shell, without input, output or waiting longer than `timeout`;
    the error in one sentence, or None. Blocks: call it from a thread worker."""
    try:
        result = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"{argv[0]} did not finish within {timeout:g} s"
    except OSError as error:
        return f"{argv[0]} could not run: {error.strerror or error}"
    if result.returncode != 0:
        said = result.stderr.decode(errors="replace").strip().splitlines()
        return f"{argv[0]} failed with code {result.returncode}" + (f": {said[-1]}" if said else "")
    return None


class Notifier:
    """Tells alerts through every channel the user's settings switch on.

    `write` puts raw text on the terminal (the app's driver); `run` starts a command given as
    an argument list without waiting for it. `bell` rings the terminal's bell when given (the
    app's `App.bell`), else a BEL goes through `write`. `env` decides tmux and the terminal's
    sequence, and the PATH `notify-send` is looked up on, once.
    """

    def __init__(
        self,
        settings: UserSettings,
        write: Callable[[str], None],
        run: Callable[[list[str]], None],
        *,
        bell: Callable[[], None] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self._write = write
        self._run = run
        self._bell = bell
        self._env = dict(os.environ if env is None else env)
        self.notify_send = (
            shutil.which(NOTIFY_SEND, path=self._env.get("PATH", os.defpath))
            if settings.notify_send
            else None
        )

    @classmethod
    def for_app(cls, app: App[Any], settings: UserSettings) -> Notifier:
        """The notifier a Textual app needs: the bell and sequences through its driver,
        notify-send in a thread worker whose failure never stops the app."""

        def run(argv: list[str]) -> None:
            app.run_worker(
                partial(run_command, argv),
                name="notify-send",
                group="notify",
                thread=True,
                exit_on_error=False,
            )

        return cls(settings, terminal_writer(app), run, bell=app.bell)

    def emit(self, alert: Alert) -> None:
        """Tell `alert` now; returns at once."""
        if self.settings.desktop:
            for sequence in desktop_sequences(alert, self._env):
                self._write(sequence)
        if self.settings.bell:
            if self._bell is not None:
                self._bell()
            else:
                self._write(BELL)
        if self.notify_send is not None:
            self._run(notify_send_argv(self.notify_send, alert))


def terminal_writer(app: App[Any]) -> Callable[[str], None]:
    """Writes raw text to the app's terminal, as `App.bell` and `App.copy_to_clipboard` do;
    Textual has no public call for it. Nothing is written without a driver or when headless
    (tests), so a notification never lands in a test's output."""

    def write(text: str) -> None:
        driver = app._driver
        if driver is not None and not app.is_headless:
            driver.write(text)

    return write
