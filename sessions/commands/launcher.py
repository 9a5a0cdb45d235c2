"""Starting one agent's runner in its tmux pane, and whether a run is worth resuming.

The supervisor decides which agents start and holds the herd's lock; this writes the launch
file the runner reads, journals the start and the pane, and says when the agent's program is
missing, since the pane would only show it exiting at once.
"""

from __future__ import annotations

import os
import shutil
import sys

from sessions.adapters.journal import Journal
from sessions.adapters.launch import LaunchPlan, clean_env, runner_env
from sessions.adapters.repo import Repo
from sessions.adapters.tmux import Tmux
from sessions.agents import kind_of
from sessions.core.fold import AgentRecord
from sessions.core.model import AgentSpec, Config, PaneInfo
from sessions.core.outcome import Outcome
from sessions.services.worktrees import Ensured


def launch_in_pane(
    repo: Repo,
    tmux: Tmux,
    journal: Journal,
    config: Config | None,
    spec: AgentSpec,
    ensured: Ensured,
    record: AgentRecord | None,
    resume: bool,
    pane: PaneInfo | None,
) -> Outcome:
    """Run the agent's runner in `pane` when it has one (dead, to be respawned), else in a new
    pane; `record` is what the journal knows of the agent, its session among it."""
    kind = kind_of(spec.kind)
    prepared = kind.prepare(spec, ensured.path, repo.state_dir)
    lines = kind.launch(spec)
    known_session = bool(record and record.session_id)
    env = clean_env(dict(os.environ))
    plan = LaunchPlan(
        agent=spec.name,
        journal=str(repo.journal_path),
        home=str(repo.state_dir),
        cwd=str(ensured.path),
        argv=list(lines.argv),
        resume_argv=list(lines.resume_argv if known_session else lines.resume_fresh_argv),
        session_id=record.session_id if record else None,
        restart=spec.restart.value,
        backoff=_backoff_dict(config),
        env=dict(lines.env) | dict(spec.env) | dict(prepared.env),
        typed_prompt=lines.typed_prompt,
        install_hint=kind.install_hint,
        tmux=tmux.tmux_bin,
        environ=env,
    )
    launch_path = repo.launch_dir / f"{spec.name}.json"
    plan.save(launch_path)
    # -P keeps the worktree (the runner's working directory) off sys.path, so a project
    # with its own `sessions` package never replaces corral's runner.
    runner = [sys.executable, "-P", "-m", "sessions.runner", str(launch_path)]
    if resume:
        runner.append("--resume")
    journal.append(
        "start",
        spec.name,
        worktree=str(ensured.path),
        branch=ensured.branch,
        resume=resume,
        note=ensured.note,
        hooks=list(prepared.notes),
    )
    # Only where to find corral goes on tmux's command line, which `ps` shows to everyone:
    # the runner takes the rest of the environment from the launch file.
    pane_env = runner_env(env)
    if pane is not None:
        tmux.respawn(pane.pane_id, ensured.path, runner, pane_env)
        pane_id = pane.pane_id
    else:
        width = config.width if config else 160
        height = config.height if config else 45
        pane_id = tmux.new_pane(spec.name, ensured.path, runner, pane_env, width, height)
    journal.append("pane", spec.name, pane=pane_id)
    how = "resumed" if resume else "started"
    note = f" ({ensured.note})" if ensured.note else ""
    note += "".join(f"; {line}" for line in prepared.notes)
    message = f"{spec.name} {how} in {ensured.path} on {ensured.branch}, pane {pane_id}{note}"
    program = plan.argv[0]
    if shutil.which(program, path=env.get("PATH")) is None and "/" not in program:
        hint = f" (install: {kind.install_hint})" if kind.install_hint else ""
        return Outcome(
            spec.name,
            "failed",
            f"{message}, but `{program}` is not installed or not on PATH{hint}: "
            "it exits at once, as its pane shows",
        )
    return Outcome(spec.name, how, message)


def interrupted(record: AgentRecord | None) -> bool:
    """A run cut off from outside is worth resuming in its session.

    It either never journaled its end (the runner was killed, the machine went down) or ended
    on SIGHUP, which is what its runner gets when the tmux server or pane goes away.
    """
    if record is None or not record.session_id or record.run_started is None:
        return False
    return record.run_ended is None or record.end_signal == "SIGHUP"


def _backoff_dict(config: Config | None) -> dict[str, float]:
    if config is None:
        return {}
    backoff = config.backoff
    return {
        "clean": backoff.clean,
        "failure": backoff.failure,
        "crash_runs": backoff.crash_runs,
        "crash_seconds": backoff.crash_seconds,
    }
