"""How fast the dashboard answers a key, and what it costs to leave it open on an idle herd.

A herd of 6 and of 30 simulated agents idle at their input box, on a real sandbox repository.

- **Key to screen, in-process**: `CorralApp` under Pilot (`run_test(size=(200, 50))`) on the real
  supervisor. The clock starts before the key is pressed and stops when the widgets show the
  effect: `j` (the Screen tab shows the next agent's pane), `d`/`e` (the Diff or Why tab is
  active and holds the selected agent's read), the filter one key at a time as a person types
  it (`/`: the box has the focus; each letter: the box holds the text so far and the table the
  rows it matches; Enter: the table has the focus back), `p` (the agent's row says paused: the
  freeze on the action worker and the look after it) and `p` again (the row no longer says
  paused).
- **Key to screen, end to end**: the real `corral` in a 200x50 pane of a tmux server of its own;
  `send-keys`, then `capture-pane` until the text shows the same effect. This adds the terminal:
  Textual writing its update, tmux parsing it.
- **Idle CPU**: percent of one core used by the real `corral` process and the tmux and git calls
  it makes (psutil: its own times plus `children_user`/`children_system`), over several windows:
  first within a minute of an agent's change (its ages count seconds, so its row is drawn every
  second), then, once every age counts minutes, with the Screen tab open (the selected pane is
  captured when tmux says it changed) and with the Conflicts tab open; against
  `watch -n 0.5 corral ls`, the loop a user might run instead. Beside it, what the herd's tmux
  server (answering the looks) and the terminal's tmux server (drawing the screen) spend.

- **First frame**: the real `corral` started in a 200x50 pane over the running herd, from just
  before tmux starts it until the screen shows every agent's row (first_frame.py).
- **A working herd** (`--working SPEED`): the simulated agents take turns on their own
  (bench_working.py's herd) while the keys are timed through the terminal: panes scroll and
  rows change state meanwhile, so `j` is done when the table's cursor is on the next row.

`--peer` names another checkout's `corral` (an older commit's, say): its first frames and keys
are timed in the same run, the two taking turns, so both meet the same load.
The machine's load average is printed, since two shared cores make every number noisier.

Run: .venv/bin/python bench/bench_app.py [--sizes 6,30] [--presses 20] [--seconds 24]
     [--starts 10] [--parts first,pilot,tmux,cpu] [--working SPEED] [--peer PATH/corral]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import psutil
from app_terminal import (
    POLL,
    SIZE,
    Terminal,
    cursor_row,
    full_table,
    names,
    pane_shown,
    row_of,
    shows_pane,
    shows_rows,
    typed_line,
    wait_screen,
)
from bench_working import working_herd
from first_frame import bytecode, first_frames
from rich.table import Table
from rich.text import Text
from textual import events
from textual.widgets import Input, Static, TabbedContent

from sessions.commands.sandbox import create
from sessions.core.model import State
from sessions.supervisor import Supervisor
from tui.app import CorralApp
from tui.widgets.herd_table import HerdTable
from tui.widgets.pane_view import PaneView

CORRAL = str(Path(sys.executable).parent / "corral")
LOST = 5.0  # a key whose effect has not shown by then is counted lost, not timed
Samples = dict[str, list[float]]


# -- the herd ---------------------------------------------------------------------------


def idle_herd(base: Path, size: int) -> Supervisor:
    """`size` simulated agents started and seen idle, so nothing on their screens moves."""
    root = create(base / f"app-{size}")
    (root / "corral.toml").write_text(
        "".join(f'[[agent]]\nname = "sim-{n}"\nkind = "sim"\n\n' for n in range(1, size + 1))
    )
    supervisor = Supervisor.open(root)
    supervisor.up()
    wait = 60 + 6 * size  # 30 simulated agents start on two cores
    end = time.monotonic() + wait
    while time.monotonic() < end:
        views = supervisor.look()
        if len(views) == size and all(v.pid and v.state is State.IDLE for v in views):
            return supervisor
        time.sleep(0.2)
    supervisor.tmux.kill_server()
    raise SystemExit(f"the herd of {size} did not go idle within {wait} s")


def filter_word(index: int, size: int) -> tuple[str, list[str]]:
    """The text typed into the filter and the agents it should leave in the table."""
    word = f"sim-{index % size + 1}"
    return word, [name for name in names(size) if word in name]


# -- in-process, with Pilot ---------------------------------------------------------------


async def within(condition: Callable[[], bool], seconds: float) -> bool:
    """Whether `condition` comes to hold within `seconds`, yielding to the app meanwhile."""
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            return False
        await asyncio.sleep(POLL)
    return True


async def wait(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Yield to the app until `condition` holds; a plain sleep, so checking adds no redraws."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(POLL)


def plain(widget: Static) -> str:
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


async def pilot_samples(root: Path, size: int, presses: int) -> Samples:
    app = CorralApp(
        Supervisor.open(root),
        actor=Supervisor.open(root),
        offer_up=False,
        settings_path=root / "no-user-settings.toml",
        environ={},
    )
    found: Samples = {}
    async with app.run_test(size=SIZE):
        screen = app.dashboard
        table = screen.query_one(HerdTable)
        tabs = screen.query_one(TabbedContent)

        def pane_shows(name: str) -> bool:
            return f"/{name}\n" in screen.query_one(PaneView).text + "\n"

        def moved_to(name: str) -> bool:
            return screen.selected == name and pane_shows(name)

        def row(name: str) -> str:
            if name not in [r.name for r in table.rows_shown]:
                return ""
            return " ".join(cell.plain for cell in table.get_row(name))

        async def timed(label: str, keys: list[str], done: Callable[[], bool]) -> None:
            began = time.perf_counter()
            for key in keys:
                if key == "slash":  # then the filter box takes the focus, as a person waits
                    press(app, key)
                    await wait(lambda: isinstance(app.focused, Input), "the filter box")
                else:
                    press(app, key)
            await wait(done, label)
            found.setdefault(label, []).append(time.perf_counter() - began)

        await wait(lambda: len(table.rows_shown) == size, f"{size} rows")
        await press_until(app, "1", lambda: pane_shows("sim-1"))
        label = "j (next agent's pane)"
        for _ in range(presses):
            current = screen.selected or "sim-1"
            if current == f"sim-{size}":
                await press_until(app, "1", lambda: pane_shows("sim-1"))
                current = "sim-1"
            following = f"sim-{int(current.split('-')[1]) + 1}"
            began = time.perf_counter()
            press(app, "j")
            if await within(partial(moved_to, following), LOST):
                found.setdefault(label, []).append(time.perf_counter() - began)
            else:
                found.setdefault(f"{label} LOST", []).append(LOST)
                await wait(lambda: screen.selected is not None and pane_shows(screen.selected), "")

        def diff_shown() -> bool:
            text = plain(screen.query_one("#diff-summary", Static))
            return tabs.active == "diff" and f"{screen.selected} has changed" in text

        def explain_shown() -> bool:
            content = screen.query_one("#explain-text", Static).content
            return (
                tabs.active == "why"
                and isinstance(content, Table)
                and "state" in list(content.columns[0].cells)
            )

        for _ in range(presses):
            await timed("d (Diff tab)", ["d"], diff_shown)
            await timed("e (Why tab)", ["e"], explain_shown)
        await press_until(app, "v", lambda: tabs.active == "screen")

        field = screen.query_one("#filter", Input)
        for index in range(presses):
            word, matching = filter_word(index, size)
            await timed("/ (the filter box)", ["slash"], lambda: field.has_focus)
            for end in range(1, len(word) + 1):
                typed = word[:end]
                await timed(LETTER, [word[end - 1]], typed_filter(field, table, typed, size))
            await timed("Enter (back to the table)", ["enter"], filtered(table, matching))
            await press_until(app, "escape", lambda: len(table.rows_shown) == size)

        await press_until(app, "1", lambda: screen.selected == "sim-1")
        for _ in range(presses):
            await timed("p (row says paused)", ["p"], lambda: "paused" in row("sim-1"))
            await timed(
                "p again (row says idle)",
                ["p"],
                lambda: "paused" not in row("sim-1") and "idle" in row("sim-1"),
            )
    return found


LETTER = "a letter (box and rows)"


def typed_filter(field: Input, table: HerdTable, typed: str, size: int) -> Callable[[], bool]:
    """The box holds the text typed so far and the table the rows it matches."""
    matching = [name for name in names(size) if typed in name]
    return lambda: field.value == typed and [r.name for r in table.rows_shown] == matching


def filtered(table: HerdTable, matching: list[str]) -> Callable[[], bool]:
    """The table holds exactly these rows and has the focus back from the filter box."""
    return lambda: [r.name for r in table.rows_shown] == matching and table.has_focus


# Key names for the characters the benchmark types, and the character each key carries.
KEYS = {"slash": "/", "enter": "\r", "escape": "\x1b", "-": "-"}
NAMES = {"-": "minus"}


def press(app: CorralApp, key: str) -> None:
    """Post the key as the terminal driver does. Pilot's `press` is not used for timing: it
    waits until the whole process looks idle, which on a busy machine adds up to a second."""
    app.post_message(events.Key(NAMES.get(key, key), KEYS.get(key, key)))


async def press_until(app: CorralApp, key: str, done: Callable[[], bool]) -> None:
    """An untimed key that puts the app where the next timed press starts."""
    press(app, key)
    await wait(done, f"{key} to take effect")


# -- end to end: the real corral in a tmux pane ---------------------------------------------


def e2e_samples(
    terminal: Terminal,
    root: Path,
    size: int,
    presses: int,
    corral: str = CORRAL,
    working: bool = False,
) -> Samples:
    """Keys to the real `corral` in a pane. On a `working` herd panes scroll and rows change
    state on their own: `j` is done when the cursor is on the next row, `p` again when the
    row no longer says paused (the agent goes back to whatever it was doing)."""
    session = "keys"
    terminal.open(session, corral, "--repo", str(root))
    found: Samples = {}

    def timed(label: str, send: Callable[[], None], done: Callable[[str], bool]) -> None:
        """A key whose effect has not shown within the wait is counted lost; the run goes on."""
        began = time.perf_counter()
        send()
        try:
            wait_screen(terminal, session, done, label)
        except SystemExit as error:
            print(str(error).splitlines()[0], file=sys.stderr)
            found.setdefault(f"{label} LOST", []).append(LOST)
            return
        found.setdefault(label, []).append(time.perf_counter() - began)

    def untimed(key: str, done: Callable[[str], bool]) -> None:
        untimed_key(terminal, session, key, done)

    try:
        wait_screen(terminal, session, lambda s: full_table(s, size), f"{size} rows", 60)
        if working:
            j_working(terminal, session, size, presses, found)
        else:
            j_idle(terminal, session, size, presses, found)
        for _ in range(presses):
            timed(
                "d (Diff tab)",
                lambda: terminal.keys(session, "d"),
                lambda s: re.search(r"(changed nothing|\d+ files? changed) since", s) is not None,
            )
            timed(
                "e (Why tab)",
                lambda: terminal.keys(session, "e"),
                lambda s: re.search(r"^ state {2,}", s, re.MULTILINE) is not None,
            )
        untimed("v", lambda s: working or pane_shown(s) > 0)
        for index in range(presses):
            word, matching = filter_word(index, size)
            timed(
                "/ (the filter box)",
                lambda: terminal.keys(session, "/"),
                lambda s: "filter by name" in s,
            )
            for end in range(1, len(word) + 1):
                typed = word[:end]
                timed(
                    LETTER,
                    partial(terminal.keys, session, word[end - 1], literal=True),
                    typed_line(typed, size),
                )
            timed(
                "Enter (back to the table)",
                lambda: terminal.keys(session, "Enter"),
                shows_rows(matching),
            )
            untimed("Escape", lambda s: full_table(s, size))
        untimed("1", lambda s: working or shows_pane("sim-1")(s))
        if working:
            wait_cursor(terminal, session, "sim-1", LOST)
        for _ in range(presses):
            timed(
                "p (row says paused)",
                lambda: terminal.keys(session, "p"),
                lambda s: "paused" in row_of(s, "sim-1"),
            )
            timed(
                "p again (row not paused)" if working else "p again (row says idle)",
                lambda: terminal.keys(session, "p"),
                lambda s: (
                    "paused" not in row_of(s, "sim-1") and (working or "idle" in row_of(s, "sim-1"))
                ),
            )
    finally:
        terminal.close(session)
    return found


def j_idle(terminal: Terminal, session: str, size: int, presses: int, found: Samples) -> None:
    """`j` until the Screen tab shows the next agent's pane (its prompt names its folder)."""
    untimed_key(terminal, session, "1", shows_pane("sim-1"))
    current = 1
    label = "j (next agent's pane)"
    for _ in range(presses):
        if current == size:
            untimed_key(terminal, session, "1", shows_pane("sim-1"))
            current = 1
        began = time.perf_counter()
        terminal.keys(session, "j")
        end = began + LOST
        while not shows_pane(f"sim-{current + 1}")(terminal.screen(session)):
            if time.perf_counter() > end:
                found.setdefault(f"{label} LOST", []).append(LOST)
                current = max(1, pane_shown(terminal.screen(session))) - 1
                break
            time.sleep(POLL)
        else:
            found.setdefault(label, []).append(time.perf_counter() - began)
        current += 1


def j_working(terminal: Terminal, session: str, size: int, presses: int, found: Samples) -> None:
    """`j` until the table's cursor is on the next agent's row."""
    label = "j (cursor on the next row)"
    for index in range(presses):
        current = index % (size - 1) + 1
        if current == 1:
            untimed_key(terminal, session, "1", lambda _: True)
            wait_cursor(terminal, session, "sim-1", LOST)
        began = time.perf_counter()
        terminal.keys(session, "j")
        if wait_cursor(terminal, session, f"sim-{current + 1}", LOST):
            found.setdefault(label, []).append(time.perf_counter() - began)
        else:
            found.setdefault(f"{label} LOST", []).append(LOST)
            untimed_key(terminal, session, "1", lambda _: True)


def wait_cursor(terminal: Terminal, session: str, name: str, seconds: float) -> bool:
    end = time.perf_counter() + seconds
    while cursor_row(terminal.screen(session, escapes=True)) != name:
        if time.perf_counter() > end:
            return False
        time.sleep(POLL)
    return True


def untimed_key(terminal: Terminal, session: str, key: str, done: Callable[[str], bool]) -> None:
    """A key that puts the app where the next timed press starts."""
    terminal.keys(session, key)
    wait_screen(terminal, session, done, f"{key} to take effect")


def first_frame(terminal: Terminal, root: Path, size: int) -> Callable[[str], float]:
    """Times one start of a corral, from just before tmux starts it to the full table."""

    def start(corral: str) -> float:
        session = "first"
        began = time.perf_counter()
        process = terminal.open(session, corral, "--repo", str(root))
        try:
            wait_screen(terminal, session, lambda s: full_table(s, size), f"{size} rows", 60)
            return time.perf_counter() - began
        finally:
            terminal.close(session)
            try:
                process.wait(timeout=20)
            except psutil.TimeoutExpired:
                process.kill()

    return start


# -- idle CPU ------------------------------------------------------------------------------


def cpu_seconds(process: psutil.Process) -> float:
    """Its own CPU and that of every child it has waited for (tmux, git, `corral ls`)."""
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def own_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


@contextmanager
def opened(terminal: Terminal, session: str, *command: str) -> Iterator[psutil.Process]:
    process = terminal.open(session, *command)
    try:
        yield process
    finally:
        terminal.close(session)


def cpu_windows(
    process: psutil.Process,
    herd_server: psutil.Process,
    display_server: psutil.Process,
    seconds: float,
    windows: int,
) -> tuple[list[float], float, float]:
    """Percent of one core per window for the process; the two tmux servers over them all."""
    shares = []
    herd_began, display_began = own_seconds(herd_server), own_seconds(display_server)
    began = time.monotonic()
    for _ in range(windows):
        start, at = cpu_seconds(process), time.monotonic()
        time.sleep(seconds / windows)
        shares.append(100 * (cpu_seconds(process) - start) / (time.monotonic() - at))
    elapsed = time.monotonic() - began
    return (
        shares,
        100 * (own_seconds(herd_server) - herd_began) / elapsed,
        100 * (own_seconds(display_server) - display_began) / elapsed,
    )


FRESH = "corral, a change < 1 min ago"
SETTLED = 62.0  # seconds after the last change: every age shown in minutes


def cpu_rows(
    terminal: Terminal, supervisor: Supervisor, size: int, seconds: float, windows: int
) -> list[str]:
    root = supervisor.repo.root
    herd_server = psutil.Process(int(supervisor.tmux.run("display-message", "-p", "#{pid}")[0]))
    rows = []
    # An age under a minute is shown to the second, so for a minute after an agent changes
    # state its row is drawn again every second; after that, once a minute.
    supervisor.pause(["sim-1"])
    supervisor.resume(["sim-1"])
    changed = time.monotonic()
    ways: list[tuple[str, tuple[str, ...], str | None]] = [
        (FRESH, (CORRAL, "--repo", str(root)), None),
        ("corral, Screen tab open", (CORRAL, "--repo", str(root)), None),
        ("corral, Conflicts tab open", (CORRAL, "--repo", str(root)), "c"),
        ("watch -n 0.5 corral ls", ("watch", "-n", "0.5", CORRAL, "ls", "--repo", str(root)), None),
    ]
    for label, command, key in ways:
        if label != FRESH:
            time.sleep(max(0.0, changed + SETTLED - time.monotonic()))
        with opened(terminal, "idle", *command) as process:
            if command[0] == CORRAL:
                wait_screen(terminal, "idle", lambda s: full_table(s, size), "rows", 60)
                if key:
                    terminal.keys("idle", key)
            time.sleep(3)  # past start-up: the first look, the first reads of every tab
            shares, herd, display = cpu_windows(
                process, herd_server, terminal.server(), seconds, windows
            )
        rows.append(
            f"| {label:<27} | {size:>3} | {statistics.median(shares):>10.1f} | "
            f"{min(shares):>6.1f} | {max(shares):>6.1f} | {herd:>9.1f} | {display:>13.1f} | "
            f"{len(shares):>7} | {load()} |"
        )
        print(f"idle cpu: {label}, {size} agents", file=sys.stderr)
    return rows


# -- the tables ------------------------------------------------------------------------------


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def key_rows(how: str, size: int, samples: Samples) -> list[str]:
    rows = []
    for label, seconds in samples.items():
        if label.endswith(" LOST"):
            what = f"{label.split()[0]} lost (no effect in {LOST:.0f} s)"
            rows.append(
                f"| {how:<13} | {what:<26} | {size:>3} | {'-':>9} | {'-':>6} | {'-':>6} | "
                f"{'-':>6} | {len(seconds):>4} |"
            )
            continue
        ms = sorted(x * 1000 for x in seconds)
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
        rows.append(
            f"| {how:<13} | {label:<26} | {size:>3} | {statistics.median(ms):>9.1f} | "
            f"{p95:>6.1f} | {ms[0]:>6.1f} | {ms[-1]:>6.1f} | {len(ms):>4} |"
        )
    return rows


PARTS = ("first", "pilot", "tmux", "cpu")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="6,30")
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--starts", type=int, default=10, help="first frames per corral")
    parser.add_argument("--seconds", type=float, default=24.0, help="idle CPU: the whole time")
    parser.add_argument("--windows", type=int, default=4, help="idle CPU: windows in that time")
    parser.add_argument("--parts", default=",".join(PARTS), help="of " + ",".join(PARTS))
    parser.add_argument(
        "--peer", help="another checkout's corral, timed beside this one (first frame, tmux)"
    )
    parser.add_argument(
        "--working",
        type=float,
        metavar="SPEED",
        help="the herd works (simulated agents --auto at this --speed) while keys are timed",
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if args.working is not None:
        parts -= {"pilot", "cpu"}  # idle CPU means an idle herd; Pilot needs idle panes
    corrals = {"this": CORRAL} | ({"peer": args.peer} if args.peer else {})
    firsts: list[str] = []
    keys: list[str] = []
    cpu: list[str] = []
    herd = "working" if args.working is not None else "idle"
    terminal = Terminal(f"corral-bench-app-{os.getpid()}")
    with tempfile.TemporaryDirectory(prefix="corral-app-", ignore_cleanup_errors=True) as folder:
        for size in [int(s) for s in args.sizes.split(",")]:
            if args.working is not None:
                supervisor = working_herd(Path(folder), size, args.working, prefix="sim")
            else:
                supervisor = idle_herd(Path(folder), size)
            try:
                root = supervisor.repo.root
                print(f"herd of {size} {herd}; load {load()}", file=sys.stderr)
                if "first" in parts:
                    start = first_frame(terminal, root, size)
                    for label, seconds in first_frames(start, corrals, args.starts).items():
                        firsts += key_rows(label, size, {f"first frame, {herd} herd": seconds})
                    print(f"first frames done: {size} agents; load {load()}", file=sys.stderr)
                if "pilot" in parts:
                    samples = asyncio.run(pilot_samples(root, size, args.presses))
                    keys += key_rows("Pilot", size, samples)
                    print(f"pilot done: {size} agents; load {load()}", file=sys.stderr)
                if "tmux" in parts:
                    keys += tmux_rows(terminal, root, size, args.presses, corrals, args.working)
                    print(f"tmux done: {size} agents; load {load()}", file=sys.stderr)
                if "cpu" in parts:
                    cpu += cpu_rows(terminal, supervisor, size, args.seconds, args.windows)
            finally:
                supervisor.tmux.kill_server()
                terminal.kill()
    header = (
        f"| {'corral':<13} | {'measure':<26} |   n | median ms | p95 ms | min ms | max ms | runs |"
    )
    rule = f"|{'-' * 15}|{'-' * 28}|-----|-----------|--------|--------|--------|------|"
    for label, corral in corrals.items():
        print(f"{label}: {corral}")
    print(f"bytecode: {bytecode()}; herd: {herd}\n")
    if firsts:
        print("\n".join([header, rule, *firsts, ""]))
    if keys:
        print("\n".join([header.replace("measure     ", "key -> shown"), rule, *keys, ""]))
    if cpu:
        print(
            "| idle herd, 500 ms look      |   n | median %cpu |    min |    max | herd tmux "
            "| terminal tmux | windows | load 1/5/15 |"
        )
        print(
            "|-----------------------------|-----|-------------|--------|--------|-----------"
            "|---------------|---------|-------------|"
        )
        print("\n".join(cpu))
    print(
        f"\nmachine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"load average at the end {load()}"
    )
    return 0


def tmux_rows(
    terminal: Terminal,
    root: Path,
    size: int,
    presses: int,
    corrals: dict[str, str],
    working: float | None,
) -> list[str]:
    """Keys through a real terminal for each corral, in two halves taken in turn."""
    found: dict[str, Samples] = {label: {} for label in corrals}
    for half in (presses - presses // 2, presses // 2):
        for label, corral in corrals.items():
            samples = e2e_samples(terminal, root, size, half, corral, working is not None)
            for key, seconds in samples.items():
                found[label].setdefault(key, []).extend(seconds)
    return [row for label in corrals for row in key_rows(f"tmux {label}", size, found[label])]


if __name__ == "__main__":
    sys.exit(main())
