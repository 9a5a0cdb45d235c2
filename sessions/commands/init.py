"""`corral init`: a first corral.toml for an existing repository, written from what is there.

A newcomer should not have to learn the config format before seeing their own agents run, so
init looks instead of asking: which agent CLIs are on PATH, which branch is checked out, and
whether the repository already keeps task locks (`current_tasks/`...) or notes (PROGRESS.md,
`notes/`). What it finds becomes a short file with a comment on every line that matters, since
the file is also how the user learns what they can change.

Nothing is written that the real parser would refuse: the text is read back through
`sessions.adapters.config.parse_config` (and tomllib must find exactly the agents planned) before it
touches the disk. An existing corral.toml is never replaced unless asked (`force`); even then
the old text is kept under `.corral/` first, since it may hold the user's only notes.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import tomlkit

from sessions.adapters.config import CONFIG_NAME, parse_config
from sessions.adapters.config_writer import HEADER, render_agent, write_text
from sessions.adapters.private import write_private
from sessions.adapters.repo import Repo
from sessions.agents import kind_of
from sessions.core.agent_fields import AgentFields, suggest_name
from sessions.core.errors import ConfigError, CorralError
from sessions.core.model import Config, Kind, Restart
from sessions.core.rules import RoleRules

# The CLIs init looks for (`AgentKind.cli`), in the order the file lists them.
CLI_KINDS = tuple(kind for kind in Kind if kind_of(kind).cli)
# What `--agents` may name: the CLIs, and the kinds that need nothing installed
# (`AgentKind.stand_in`). A shell agent needs a command init cannot guess, so it is left to a
# hand-written table.
STAND_INS = tuple(kind for kind in Kind if kind_of(kind).stand_in)
PLANNED_KINDS = (*CLI_KINDS, *STAND_INS)
MAX_PER_KIND = 50  # more than any laptop runs; a larger number is a typo

# Folders and files that repositories use for task locks and notes, as init recognises them.
LOCK_DIRS = ("current_tasks", "tasks", ".tasks")
DONE_DIRS = ("completed_tasks", "done_tasks")
PROGRESS_FILES = ("PROGRESS.md", "progress.md")
NOTE_FILES = (*PROGRESS_FILES, "NOTES.md")
NOTE_DIRS = ("notes",)


def detect_clis(path_env: str | None = None) -> dict[Kind, str]:
    """Each agent CLI found on `path_env` (a PATH string; None means this process's PATH),
    mapped to where it is. The program looked for is the kind's usual command, the same one an
    agent without a `command` key runs, so what init finds is what `corral up` will start."""
    found: dict[Kind, str] = {}
    for kind in CLI_KINDS:
        program = kind_of(kind).default_command[0]
        where = shutil.which(program, path=path_env)
        if where is not None:
            found[kind] = where
    return found


def install_hints() -> dict[Kind, str]:
    """How to install each CLI, as `corral doctor` says it."""
    return {kind: kind_of(kind).install_hint for kind in CLI_KINDS}


def parse_agents(value: str) -> dict[Kind, int]:
    """`--agents claude:2,codex:1` as counts per kind; a bare kind means one. Raises
    `CorralError` naming the part that is wrong, so a typo in a long list is easy to find."""
    counts: dict[Kind, int] = {}
    allowed = ", ".join(kind.value for kind in PLANNED_KINDS)
    for raw in value.split(","):
        part = raw.strip()
        if not part:
            raise CorralError(
                f"--agents {value!r} has an empty part: write kind:count pairs separated by "
                "commas, such as claude:2,codex:1."
            )
        name, colon, number = (piece.strip() for piece in part.partition(":"))
        kind = next((k for k in PLANNED_KINDS if k.value == name.lower()), None)
        if kind is None:
            raise CorralError(
                f"--agents: {part!r} names {name!r}, which is not a kind corral init writes: "
                f"use {allowed}."
            )
        if kind in counts:
            raise CorralError(f"--agents: {name} is named twice: give it one count.")
        count = _count(number) if colon else 1
        if count is None:
            raise CorralError(
                f"--agents: {part!r}: {number!r} is not a number of agents from 0 to "
                f"{MAX_PER_KIND}; write it as {name}:2."
            )
        counts[kind] = count
    if not any(counts.values()):
        raise CorralError(
            f"--agents {value!r} asks for no agent at all: give at least one kind a count above 0."
        )
    return counts


def _count(text: str) -> int | None:
    if not re.fullmatch(r"[0-9]+", text):
        return None
    number = int(text)
    return number if number <= MAX_PER_KIND else None


def ask_counts(found: Mapping[Kind, str], ask: Callable[[str], str | None]) -> dict[Kind, int]:
    """Ask how many agents of each CLI found; `ask` shows a question and returns the answer,
    or None once input has ended, which takes the defaults for the rest. Enter means one, the
    same as `--yes`. A wrong answer is asked again, saying what is expected."""
    counts: dict[Kind, int] = {}
    ended = False
    for kind, where in found.items():
        title = kind_of(kind).title
        question = f"How many {title} agents ({where})? [1] "
        while not ended:
            answer = ask(question)
            if answer is None:
                ended = True
                break
            if not answer.strip():
                counts[kind] = 1
                break
            count = _count(answer.strip())
            if count is not None:
                counts[kind] = count
                break
            question = f"  a number from 0 to {MAX_PER_KIND}, please; how many {title}? [1] "
        counts.setdefault(kind, 1)
    if found and not any(counts.values()):
        raise CorralError(
            "no agents asked for: run `corral init` again and answer at least one with a number "
            "above 0."
        )
    return counts


@dataclass(frozen=True)
class Layout:
    """What the repository already keeps for coordination, as paths relative to its root."""

    lock_dirs: tuple[str, ...] = ()
    done_dirs: tuple[str, ...] = ()
    note_files: tuple[str, ...] = ()
    note_dirs: tuple[str, ...] = ()

    @classmethod
    def of(cls, root: Path) -> Layout:
        """Names are compared exactly as listed, so `progress.md` is not taken for
        `PROGRESS.md` on a file system that ignores case."""
        try:
            names = set(os.listdir(root))
        except OSError:
            names = set()

        def folders(candidates: Sequence[str]) -> tuple[str, ...]:
            return tuple(n for n in candidates if n in names and (root / n).is_dir())

        return cls(
            lock_dirs=folders(LOCK_DIRS),
            done_dirs=folders(DONE_DIRS),
            note_files=tuple(n for n in NOTE_FILES if n in names and (root / n).is_file()),
            note_dirs=folders(NOTE_DIRS),
        )

    @property
    def progress(self) -> str | None:
        return next((name for name in self.note_files if name in PROGRESS_FILES), None)

    @property
    def note_globs(self) -> tuple[str, ...]:
        return (*self.note_files, *(f"{folder}/**/*.md" for folder in self.note_dirs))

    def coordination(self) -> tuple[str, ...] | None:
        """The `[roles] coordination` patterns when something found is not among the defaults
        (a `tasks/` lock folder, NOTES.md): without them, writing a lock would make an agent a
        builder. None when the defaults already cover everything."""
        defaults = RoleRules().coordination
        wanted = [
            *self.note_files,
            *(f"{folder}/*" for folder in (*self.note_dirs, *self.lock_dirs, *self.done_dirs)),
        ]
        extra = [pattern for pattern in wanted if pattern not in defaults]
        return (*defaults, *extra) if extra else None


@dataclass(frozen=True)
class Planned:
    """One agent the new file will hold."""

    fields: AgentFields
    comment: str


def plan_config(repo: Repo, counts: Mapping[Kind, int] | None, found: Mapping[Kind, str]) -> str:
    """The text of a new corral.toml for `repo`. `counts` None means one agent per CLI found;
    with none found, the file gets one simulated agent and a commented-out example per CLI,
    with how to install it. Raises `ConfigError` if the parser would refuse the text (a bug,
    never the user's doing), so nothing unreadable is ever written."""
    layout = Layout.of(repo.root)
    prompt = _prompt(layout)
    chosen = {kind: 1 for kind in found} if counts is None else dict(counts)
    examples = not any(chosen.values())
    if examples:
        chosen = {kind: 1 for kind in STAND_INS}
    agents = _agents(chosen, found, prompt)
    parts = [HEADER, _intro(examples), _base(repo.current_branch()), _tables(layout)]
    parts.append(_agents_intro(layout, prompt))
    parts.extend(f"# {agent.comment}\n{render_agent(agent.fields)}" for agent in agents)
    if examples:
        parts.append(_examples(prompt))
    text = "\n".join(part for part in parts if part)
    _check(text, repo.root, agents)
    return text


def _prompt(layout: Layout) -> str | None:
    progress = layout.progress
    if progress is None:
        return None
    if layout.lock_dirs:
        return (
            f"Read {progress}, claim the next open task with a file in {layout.lock_dirs[0]}/, "
            "and do it."
        )
    return f"Read {progress} and take the next open task."


def _agents(
    counts: Mapping[Kind, int], found: Mapping[Kind, str], prompt: str | None
) -> list[Planned]:
    planned: list[Planned] = []
    names: list[str] = []
    for kind in PLANNED_KINDS:  # the file's order, whatever order --agents gave
        for _ in range(counts.get(kind, 0)):
            name = suggest_name(kind.value, names)
            names.append(name)
            fields = AgentFields(
                name=name, kind=kind.value, prompt=prompt, restart=Restart.ON_FAILURE.value
            )
            planned.append(Planned(fields, _agent_comment(kind, name, found)))
    return planned


def _agent_comment(kind: Kind, name: str, found: Mapping[Kind, str]) -> str:
    agent_kind = kind_of(kind)
    if agent_kind.stand_in:
        return (
            f"{agent_kind.title}, to try corral with: it edits and commits on branch corral/{name}."
        )
    if kind in found:
        return f"{agent_kind.title} ({found[kind]}), working on branch corral/{name}."
    program = agent_kind.default_command[0]
    return f"{agent_kind.title}: `{program}` is not on PATH yet; {agent_kind.install_hint}"


def _intro(examples: bool) -> str:
    if not examples:
        return ""
    hints = "".join(f"#   {kind.value:<7} {hint}\n" for kind, hint in install_hints().items())
    *first, last = (kind.value for kind in CLI_KINDS)
    return (
        f"# No agent CLI ({', '.join(first)} or {last}) was on PATH when `corral init` ran, so\n"
        "# the one agent below is corral's simulated agent. Install a CLI:\n"
        f"{hints}"
        "# then uncomment its example at the end of this file, or run `corral init --force`.\n"
    )


def _base(branch: str | None) -> str:
    if branch is None:
        return (
            "# The branch every agent's worktree starts from, and that `corral merge` merges\n"
            "# into. HEAD was detached when `corral init` ran, so none is named: corral takes\n"
            "# the branch checked out when an agent starts. Name one to pin it.\n"
            '# base = "main"\n'
        )
    return (
        "# The branch every agent's worktree starts from, and that `corral merge` merges into:\n"
        "# the one checked out when `corral init` ran.\n"
        f"base = {_toml(branch)}\n"
    )


def _tables(layout: Layout) -> str:
    blocks: list[str] = []
    coordination = layout.coordination()
    if coordination is not None:
        blocks.append(
            "# Paths whose writes are coordination, not building (they never make a builder or\n"
            "# a conflict): corral's defaults, plus the ones this repository has.\n"
            f"[roles]\ncoordination = {_toml(list(coordination))}\n"
        )
    if layout.lock_dirs or layout.done_dirs:
        lines = ["# Task locks, one file per claimed task, in the folders this repository has.\n"]
        lines.append("[locks]\n")
        if layout.lock_dirs:
            lines.append(f"dirs = {_toml(list(layout.lock_dirs))}\n")
        if layout.done_dirs:
            lines.append("# Finished tasks: counted, never called stale.\n")
            lines.append(f"done_dirs = {_toml(list(layout.done_dirs))}\n")
        blocks.append("".join(lines))
    if layout.note_globs:
        blocks.append(
            "# PROGRESS.md and notes this repository has, watched in every checkout.\n"
            f"[notes]\nfiles = {_toml(list(layout.note_globs))}\n"
        )
    return "\n".join(blocks)


def _agents_intro(layout: Layout, prompt: str | None) -> str:
    text = (
        '# One [[agent]] table per agent, each in its own worktree. restart = "on-failure"\n'
        "# starts an agent again when its command fails, not when it ends cleanly.\n"
    )
    if prompt is None:
        text += (
            "# There is no PROGRESS.md here, so the agents get no first message: they wait at\n"
            '# their input box. Add prompt = "..." to a table, or use `corral send NAME TEXT`.\n'
        )
    return text


def _examples(prompt: str | None) -> str:
    """One commented-out table per CLI: uncommenting one is all it takes once it is installed."""
    blocks = []
    for kind in CLI_KINDS:
        fields = AgentFields(
            name=f"{kind.value}-1",
            kind=kind.value,
            prompt=prompt,
            restart=Restart.ON_FAILURE.value,
        )
        table = "".join(f"# {line}" for line in render_agent(fields).splitlines(keepends=True))
        blocks.append(f"# {kind_of(kind).title}: {kind_of(kind).install_hint}\n{table}")
    return "\n".join(blocks)


def _toml(value: str | list[str]) -> str:
    """A value as TOML writes it: tomlkit gets quoting and escapes right for any branch name.
    A list too long for one line gets a line per item, so the file reads without scrolling."""
    if isinstance(value, str):
        return tomlkit.item(value).as_string()
    items = [tomlkit.item(item).as_string() for item in value]
    one_line = f"[{', '.join(items)}]"
    if len(one_line) <= 80:
        return one_line
    return "[\n" + "".join(f"    {item},\n" for item in items) + "]"


def _check(text: str, root: Path, agents: Sequence[Planned]) -> Config:
    path = root / CONFIG_NAME
    config = parse_config(text, str(path), root)
    found = tomllib.loads(text).get("agent", [])
    if found != [agent.fields.table() for agent in agents]:
        raise ConfigError(
            str(path), None, "agent", "the planned agents did not read back as planned"
        )
    return config


@dataclass(frozen=True)
class Written:
    """What `write_config` did, for the command line to say."""

    path: Path
    config: Config
    backup: Path | None


def check_absent(repo: Repo) -> None:
    """Refuse early, before any question is asked, when there is a corral.toml already."""
    path = repo.config_path
    if path.exists() or path.is_symlink():
        raise _refusal(path)


def write_config(repo: Repo, text: str, *, force: bool = False) -> Written:
    """Write `text` as the repository's corral.toml. Without `force` an existing file (or a
    dangling link by that name) is refused, and the check cannot race with another writer: the
    file appears through a hard link, which fails if the name is taken. With `force` the old
    text goes to `.corral/` first and a link is followed, as adding an agent does."""
    path = repo.config_path
    config = parse_config(text, str(path), repo.root)
    exists = path.exists() or path.is_symlink()
    if not force:
        check_absent(repo)
    if not exists:
        _create(path, text)
        return Written(path, config, None)
    real = path.resolve() if path.is_symlink() else path
    backup = _keep(repo, real)
    write_text(real, text, path)
    return Written(path, config, backup)


def _refusal(path: Path) -> CorralError:
    return CorralError(
        f"{path} already exists, so corral init left it as it is: edit it, or run "
        "`corral init --force` to replace it (the old one is kept under .corral/)."
    )


def _create(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.init.{os.getpid()}.tmp")
    write_text(temporary, text, path)
    try:
        os.link(temporary, path)
    except FileExistsError as error:
        raise _refusal(path) from error
    except OSError as error:
        raise ConfigError(str(path), None, None, f"cannot be written ({error.strerror})") from error
    finally:
        temporary.unlink(missing_ok=True)


def _keep(repo: Repo, real: Path) -> Path | None:
    """Copy the file about to be replaced into `.corral/` (kept out of git); None when there
    is nothing to read (a dangling link)."""
    try:
        old = real.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ConfigError(str(real), None, None, f"cannot be read: {error.strerror}") from error
    repo.prepare()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = repo.state_dir / f"{CONFIG_NAME}.{stamp}.before-init"
    number = 1
    while backup.exists():
        number += 1
        backup = repo.state_dir / f"{CONFIG_NAME}.{stamp}-{number}.before-init"
    return write_private(backup, old)


def missing_clis(config: Config, found: Mapping[Kind, str]) -> list[str]:
    """One sentence per CLI kind the file asks for that is not installed, with its install
    hint: the file is still written, since the user may install it next."""
    kinds = [k for k in CLI_KINDS if k not in found and any(a.kind is k for a in config.agents)]
    return [
        f"{kind.value} is not on PATH, so its agents cannot start yet: {kind_of(kind).install_hint}"
        for kind in kinds
    ]


def summary(written: Written, repo: Repo) -> list[str]:
    """What was written, in a few lines the command line prints."""
    config = written.config
    names = ", ".join(agent.name for agent in config.agents)
    count = len(config.agents)
    lines = [f"wrote {written.path}: {count} agent{'s' if count != 1 else ''} ({names})"]
    lines.append(f"  base: {config.base}" if config.base else "  base: left out (HEAD is detached)")
    layout = Layout.of(repo.root)
    if layout.lock_dirs or layout.done_dirs:
        lines.append(
            f"  task locks: {', '.join(f'{d}/' for d in layout.lock_dirs + layout.done_dirs)}"
        )
    if layout.note_globs:
        lines.append(f"  notes: {', '.join(layout.note_globs)}")
    if written.backup is not None:
        lines.append(f"  the old corral.toml is kept at {written.backup}")
    return lines
