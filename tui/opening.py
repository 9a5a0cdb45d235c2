"""Opening the dashboard: the first look starts before Textual loads.

Importing Textual and the app takes most of the time to the first frame, and the first look
(tmux, the process table, the journal) mostly waits on other processes. So the look starts on a
thread first, and the app shows it when it mounts, if it is back by then: the first frame then
holds the herd rather than an empty table.
"""

from __future__ import annotations

from pathlib import Path

from tui.reading import Reader


def run_dashboard(repo: Path) -> int:
    """`corral` with no command: open the dashboard on the repository at `repo`.

    Two supervisors: one looks, one acts, so a kill that waits for an agent to stop never holds
    up the table. Errors a user can cause (no repository, no tmux, a bad corral.toml) surface as
    `CorralError` before the screen opens, and the command line prints them in one sentence.
    """
    from sessions.supervisor import Supervisor

    looker = Supervisor.open(repo)
    reader = Reader(looker)
    reader.look_ahead()
    actor = Supervisor.open(repo)
    from tui.app import CorralApp

    app = CorralApp(looker, actor=actor, reader=reader)
    app.run()
    looker.observer.save_cpu_samples()
    print("corral closed; every agent keeps running (`corral ls` shows them).")
    return 0
