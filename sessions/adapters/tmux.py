"""corral's own tmux server: one per repository, on a private socket, panes addressed by id.

Every query goes through `list-panes -a` once for the whole herd, so the cost of looking at the
herd is one process spawn however many agents there are. Looking (that call and `capture-pane`)
and starting a pane are tmux command lines of corral's own; the rest of the control plane
(respawn, typing, paste buffers, options, kills) goes through libtmux, loaded on first use so
that `corral ls` never pays for it. Text for a pane is passed as arguments or through a paste
buffer, never through a shell string.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sessions.adapters.private import write_private
from sessions.core.errors import TmuxError
from sessions.core.model import PaneInfo

if TYPE_CHECKING:
    import libtmux
    from libtmux.common import tmux_cmd
    from libtmux.pane import Pane

MIN_VERSION = (3, 2)
CONFIG = Path(__file__).with_name("tmux.conf")
AGENT_OPTION = "@corral_agent"
PANE_FORMAT = "\t".join(
    (
        "#{pane_id}",
        "#{session_name}",
        "#{pane_pid}",
        "#{pane_dead}",
        "#{pane_dead_status}",
        "#{" + AGENT_OPTION + "}",
        "#{window_activity}",
        "#{pane_dead_signal}",
        "#{cursor_x},#{cursor_y}",
        "#{history_size}",
    )
)
INSTALL_HINT = (
    "tmux is not installed: install it with `sudo apt-get install tmux` "
    "(or your system's package manager) and try again."
)
NO_SERVER = ("no server running", "error connecting to", "No such file or directory")


def tmux_version(tmux_bin: str | None = None, known: Path | None = None) -> tuple[int, int]:
    """The installed tmux's version; raises TmuxError when tmux is missing or too old.

    With `known` (a file in `.corral/cache/`), the answer is kept there with what the binary
    looked like on disk, and `tmux -V` runs again only when the binary changed: every command
    checks, and a script polling `corral ls` paid a process on every call for it."""
    binary = tmux_bin or shutil.which("tmux")
    if not binary:
        raise TmuxError(INSTALL_HINT)
    looks = _looks(binary)
    output = _kept(known, looks)
    if output is None:
        output = subprocess.run([binary, "-V"], capture_output=True, text=True, check=False).stdout
        if known is not None and looks is not None and re.search(r"\d+\.\d+", output):
            with contextlib.suppress(OSError):
                write_private(known, json.dumps([looks, output]))
    match = re.search(r"(\d+)\.(\d+)", output)
    if not match:
        raise TmuxError(f"cannot read tmux's version from {output.strip()!r}: reinstall tmux.")
    version = (int(match.group(1)), int(match.group(2)))
    if version < MIN_VERSION:
        raise TmuxError(
            f"tmux {version[0]}.{version[1]} is too old: corral needs tmux "
            f"{MIN_VERSION[0]}.{MIN_VERSION[1]} or newer; upgrade it."
        )
    return version


def _looks(binary: str) -> str | None:
    try:
        info = os.stat(binary)
    except OSError:
        return None
    return f"{os.path.realpath(binary)}:{info.st_ino}:{info.st_mtime_ns}:{info.st_size}"


def _kept(known: Path | None, looks: str | None) -> str | None:
    """What `tmux -V` said of the binary that looks like this, when it was kept."""
    if known is None or looks is None:
        return None
    try:
        kept_looks, output = json.loads(known.read_bytes())
    except (OSError, ValueError, TypeError):
        return None
    return output if kept_looks == looks and isinstance(output, str) else None


class Tmux:
    """The tmux server on corral's socket for one repository: named (`-L`), or a path (`-S`)."""

    def __init__(
        self, socket_name: str, tmux_bin: str | None = None, *, socket_path: str | None = None
    ) -> None:
        self.socket_name = socket_name
        self.socket_file = socket_path
        binary = tmux_bin or shutil.which("tmux")
        if not binary:
            raise TmuxError(INSTALL_HINT)
        self.tmux_bin: str = binary

    @classmethod
    def on(cls, server: libtmux.Server) -> Tmux:
        """corral's view of a server its caller owns (a test's, from libtmux's fixture)."""
        tmux = cls(
            str(server.socket_name or ""),
            server.tmux_bin,
            socket_path=str(server.socket_path) if server.socket_path else None,
        )
        tmux.__dict__["server"] = server
        return tmux

    @cached_property
    def server(self) -> libtmux.Server:
        """libtmux's view of the same server, with corral's configuration: the control plane.

        Imported on first use: the command line answers `corral ls` about a third faster
        without loading libtmux (bench/README.md), and looking at the herd is a plain tmux
        command line anyway.
        """
        import libtmux

        if self.socket_file:
            return libtmux.Server(
                socket_path=self.socket_file, tmux_bin=self.tmux_bin, config_file=str(CONFIG)
            )
        return libtmux.Server(
            socket_name=self.socket_name, tmux_bin=self.tmux_bin, config_file=str(CONFIG)
        )

    def pane(self, pane_id: str) -> Pane:
        """libtmux's handle on a pane, addressed by id; made without asking tmux anything."""
        from libtmux.pane import Pane

        return Pane(server=self.server, pane_id=pane_id)

    def run(self, *args: str, ok_if_no_server: bool = False) -> list[str]:
        try:
            result = subprocess.run(
                self.argv(*args),
                capture_output=True,
                text=True,
                errors="backslashreplace",
                env=_own_env(),
                check=False,
            )
        except FileNotFoundError as error:
            raise TmuxError(INSTALL_HINT) from error
        if result.returncode != 0:
            message = result.stderr.strip().replace("\n", " ")
            if ok_if_no_server and any(marker in message for marker in NO_SERVER):
                return []
            raise TmuxError(f"tmux {args[0]} failed: {message or 'no reason given'}.")
        return result.stdout.splitlines()

    def panes(self) -> list[PaneInfo]:
        """Every agent pane on the server, from one `list-panes -a` call."""
        panes: list[PaneInfo] = []
        for line in self.run("list-panes", "-a", "-F", PANE_FORMAT, ok_if_no_server=True):
            parts = line.split("\t")
            if len(parts) != 10 or not parts[5]:
                continue
            pane_id, session, pid, dead, status, agent, activity, killed, cursor, history = parts
            panes.append(
                PaneInfo(
                    pane_id=pane_id,
                    session=session,
                    agent=agent,
                    pid=int(pid or 0),
                    dead=dead == "1",
                    dead_status=int(status) if status.lstrip("-").isdigit() else None,
                    activity=float(activity or 0),
                    dead_signal=int(killed) if killed.isdigit() else None,
                    cursor=cursor,
                    history=int(history) if history.isdigit() else 0,
                )
            )
        return panes

    def new_pane(
        self,
        agent: str,
        cwd: Path,
        argv: Sequence[str],
        env: Mapping[str, str],
        width: int,
        height: int,
    ) -> str:
        """Start `argv` in a new session named after the agent; returns the pane id.

        The options are set in the same tmux command list as the session is created, so a
        process that exits at once still leaves its pane (and exit status) behind. `env` goes on
        the command line, which the first `new-session` makes the server's own: nothing secret.
        A command line of corral's own rather than libtmux's `new_session`: that takes the
        command as one shell string (the user's shell would stand between tmux and the runner),
        sets options in calls of their own after the pane has started, and asks tmux four times
        where this asks once (`corral up` would take about a third longer; bench/README.md).
        """
        lines = self.run(
            "new-session",
            "-d",
            "-s",
            agent,
            "-x",
            str(width),
            "-y",
            str(height),
            "-c",
            str(cwd),
            *_env_args(env),
            "-P",
            "-F",
            "#{pane_id}",
            "--",
            *argv,
            ";",
            "set-option",
            "-w",
            "-t",
            f"={agent}:",
            "remain-on-exit",
            "on",
            ";",
            "set-option",
            "-p",
            "-t",
            f"={agent}:",
            AGENT_OPTION,
            agent,
            ";",
            "set-option",
            "-g",
            "status",
            "off",
        )
        pane_id = next((line for line in lines if line.startswith("%")), None)
        if pane_id is None:
            raise TmuxError(f"tmux did not report a pane for {agent}: run `corral doctor`.")
        return pane_id

    def respawn(self, pane_id: str, cwd: Path, argv: Sequence[str], env: Mapping[str, str]) -> None:
        """Start `argv` again in the pane. libtmux's `respawn` takes one shell string, so the
        arguments go through its pane command, as words."""
        pane = self.pane(pane_id)
        _checked(pane.cmd("respawn-pane", "-k", "-c", str(cwd), *_env_args(env), *argv))

    def capture(self, pane_id: str, ansi: bool = False, history: int = 0) -> str:
        args = ["capture-pane", "-p", "-t", pane_id]
        if ansi:
            args.append("-e")
        if history:
            args += ["-S", str(-history)]
        return "\n".join(self.run(*args))

    def capture_many(self, pane_ids: Sequence[str]) -> dict[str, str]:
        """Several panes' screens from one tmux call, split on a marker line between them."""
        if not pane_ids:
            return {}
        marker = f"corral-screen-end-{os.getpid()}-{time.monotonic_ns()}"
        args: list[str] = []
        for pane_id in pane_ids:
            args += ["capture-pane", "-p", "-t", pane_id, ";"]
            args += ["display-message", "-p", marker, ";"]
        lines = self.run(*args[:-1], ok_if_no_server=True)
        screens: dict[str, str] = {}
        current: list[str] = []
        panes = iter(pane_ids)
        for line in lines:
            if line == marker:
                screens[next(panes)] = "\n".join(current)
                current = []
            else:
                current.append(line)
        return screens

    def send_text(self, pane_id: str, text: str, enter: bool = True) -> None:
        """Type `text` into the pane as a prompt: literally, and whole even when multi-line.

        One line goes as literal keys; several lines go through a paste buffer pasted with
        bracketed-paste markers, so the agent receives them as one prompt, not one per line.
        A pane left in copy mode would take the keys as commands, so that mode ends first.
        Enter waits until the text has been drawn: Claude Code takes keys that arrive in one
        burst as a paste, and an Enter inside a paste is a newline, not a submit.
        """
        pane = self.pane(pane_id)
        if _checked(pane.cmd("display-message", "-p", "#{pane_in_mode}")) == ["1"]:
            _checked(pane.cmd("send-keys", "-X", "cancel"))
        before = self.capture(pane_id) if enter and text else ""
        if "\n" not in text and len(text) < 2000:
            if text:  # `--`, which libtmux's send_keys leaves out: text may begin with a dash
                _checked(pane.cmd("send-keys", "-l", "--", text))
        else:
            self._paste(pane, text)
        if enter:
            self._wait_drawn(pane_id, text, before)
            _checked(pane.cmd("send-keys", "Enter"))

    def _wait_drawn(self, pane_id: str, text: str, before: str, timeout: float = 2.0) -> None:
        """Until the last line typed shows (or, for a paste, the screen changed), at most
        `timeout` seconds: an agent that draws nothing still gets its Enter."""
        if not text:
            return
        tail = text.rstrip("\n").rsplit("\n", 1)[-1][-40:]
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            screen = self.capture(pane_id)
            if (tail and tail in screen and tail not in before) or (
                "\n" in text and screen != before
            ):
                time.sleep(0.05)
                return
            time.sleep(0.02)

    def _paste(self, pane: Pane, text: str) -> None:
        """Through a buffer of its own, deleted once pasted, with bracketed-paste markers."""
        import tempfile

        from libtmux import exc

        buffer = f"corral-{os.getpid()}-{str(pane.pane_id).lstrip('%')}"
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
            handle.write(text)
            path = handle.name
        try:
            self.server.load_buffer(path, buffer_name=buffer)
            pane.paste_buffer(buffer_name=buffer, delete_after=True, bracket=True)
        except exc.LibTmuxException as error:
            raise TmuxError(f"tmux could not paste into {pane.pane_id}: {error}.") from error
        finally:
            os.unlink(path)

    def kill_session(self, session: str) -> None:
        """End an agent's session; one that is already gone is no failure. Exact names
        (`=name`), which libtmux's `kill_session` does not take."""
        try:
            _checked(self.server.cmd("kill-session", target=f"={session}"), ok_if_no_server=True)
        except TmuxError as error:
            if "can't find session" not in str(error):
                raise

    def kill_server(self) -> None:
        """End the server; none running (or a stale socket left behind) is no failure, where
        libtmux's `kill` would call a refused connection an error."""
        _checked(self.server.cmd("kill-server"), ok_if_no_server=True)

    def argv(self, *args: str) -> list[str]:
        """A tmux command line for corral's server, with corral's configuration."""
        socket = ["-S", self.socket_file] if self.socket_file else ["-L", self.socket_name]
        return [self.tmux_bin, *socket, "-f", str(CONFIG), *args]

    def attach_argv(self, pane_id: str) -> list[str]:
        """The command that attaches a terminal to the pane's session on corral's server."""
        return self.argv("attach-session", "-t", pane_id)

    def detach_keys(self) -> str:
        """How the user detaches on corral's server: their own prefix, then d."""
        lines = self.run("show-options", "-gv", "prefix", ok_if_no_server=True)
        prefix = lines[0] if lines else "C-b"
        return prefix.replace("C-", "Ctrl-", 1) + " d"

    def socket_path(self) -> str | None:
        lines = self.run("display-message", "-p", "#{socket_path}", ok_if_no_server=True)
        return lines[0] if lines else None


def _checked(proc: tmux_cmd, ok_if_no_server: bool = False) -> list[str]:
    """What a libtmux command printed, or corral's TmuxError for what tmux said instead."""
    if proc.returncode != 0 or proc.stderr:
        message = " ".join(proc.stderr).strip()
        if ok_if_no_server and any(marker in message for marker in NO_SERVER):
            return []
        command = next((str(arg) for arg in proc.cmd[1:] if not str(arg).startswith("-")), "")
        raise TmuxError(f"tmux {command} failed: {message or 'no reason given'}.")
    return list(proc.stdout)


def _own_env() -> dict[str, str]:
    """The environment for commands to corral's own server: run from inside the user's tmux,
    `TMUX_PANE` names a pane of *their* server, and tmux would apply a command without a
    target to the pane of that number on corral's (an agent's label moved to another pane)."""
    return {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}


def _env_args(env: Mapping[str, str]) -> list[str]:
    """`-e KEY=VALUE` for each variable. These are on the tmux command line, which `ps` shows
    to every local user, and the server started by a `new-session` keeps it for as long as it
    runs: never pass anything secret here (corral passes `launch.runner_env`)."""
    args: list[str] = []
    for key, value in env.items():
        args += ["-e", f"{key}={value}"]
    return args
