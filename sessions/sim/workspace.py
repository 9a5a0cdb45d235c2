"""The tool calls, done for real in the agent's worktree.

corral watches files, commits, PROGRESS.md, notes and task locks, so the simulated agent must
leave the same traces a real one does: real file contents, real commits made through git's
argv (never a shell string), and lock files in the format agents use in the wild.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sessions.sim.plan import identifier

# Runs an argv in the worktree and returns (exit code, combined output).
Run = Callable[[Sequence[str]], tuple[int, str]]

MAX_READ = 1_000_000
_LINE_COMMENTS = {
    ".md": "-",
    ".txt": "-",
    ".js": "//",
    ".ts": "//",
    ".rs": "//",
    ".go": "//",
    ".c": "//",
    ".h": "//",
}
PROGRESS = "PROGRESS.md"
PROGRESS_HEADER = "# Progress\n\n## Backlog\n\n"


@dataclass(frozen=True)
class ToolOutcome:
    """What one tool call did: for the journal (tool, cls, paths) and the screen (the rest)."""

    tool: str
    cls: str
    paths: tuple[str, ...]
    title: str
    detail: tuple[str, ...] = ()
    ok: bool = True
    command: str = ""


class Workspace:
    def __init__(self, root: Path, agent: str, run: Run, exclude: Sequence[str] = ()) -> None:
        self.root = root
        self.agent = agent
        self._run = run
        self._exclude = tuple(exclude)
        self._edits = 0

    def files(self) -> list[str]:
        """Tracked files, or a short walk of the folder when it is not a git worktree."""
        try:
            listed = subprocess.run(
                ["git", "ls-files", "-z"],
                cwd=self.root,
                capture_output=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            listed = None
        if listed is not None and listed.returncode == 0:
            return [name for name in listed.stdout.decode(errors="replace").split("\0") if name]
        return self._walk()

    def _walk(self, limit: int = 500) -> list[str]:
        found: list[str] = []
        for path in sorted(self.root.rglob("*")):
            relative = path.relative_to(self.root)
            if any(part.startswith(".") for part in relative.parts) or not path.is_file():
                continue
            found.append(relative.as_posix())
            if len(found) >= limit:
                break
        return found

    def read(self, path: str) -> ToolOutcome:
        text = self._text(path)
        if text is None:
            return ToolOutcome(
                "Read", "read", (path,), f"Read({path})", ("File not readable",), False
            )
        return ToolOutcome("Read", "read", (path,), f"Read({path})", (f"Read {_count(text)}",))

    def grep(self, pattern: str, path: str = ".") -> ToolOutcome:
        prefix = "" if path in ("", ".") else path.rstrip("/") + "/"
        matches: list[str] = []
        for name in self.files():
            if prefix and not name.startswith(prefix) and name != path:
                continue
            text = self._text(name)
            if text is not None and pattern in text:
                matches.append(name)
        shown = tuple(matches[:3]) + ((f"… {len(matches) - 3} more",) if len(matches) > 3 else ())
        detail = (f"Found {len(matches)} files", *shown)
        title = f'Search(pattern: "{pattern}", path: "{path or "."}")'
        return ToolOutcome("Grep", "read", (path or ".",), title, detail)

    def edit(
        self, path: str, text: str | None = None, old: str | None = None, new: str | None = None
    ) -> ToolOutcome:
        target = self.root / path
        if not target.exists():
            return self.write(path, text if text is not None else self._fresh(path))
        before = self._text(path)
        if before is None:
            return ToolOutcome(
                "Edit", "edit", (path,), f"Update({path})", ("Not a text file",), False
            )
        if old is not None and new is not None:
            if old not in before:
                detail = ("String to replace not found",)
                return ToolOutcome("Edit", "edit", (path,), f"Update({path})", detail, False)
            after = before.replace(old, new, 1)
        elif text is not None:
            after = _appended(before, text)
        else:
            after = self._automatic(path, before)
        target.write_text(after, encoding="utf-8")
        detail = (_changed(path, before, after),)
        return ToolOutcome("Edit", "edit", (path,), f"Update({path})", detail)

    def write(self, path: str, text: str) -> ToolOutcome:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text if text.endswith("\n") or not text else text + "\n", "utf-8")
        detail = (f"Wrote {_count(text)} to {path}",)
        return ToolOutcome("Write", "edit", (path,), f"Write({path})", detail)

    def bash(self, argv: Sequence[str]) -> ToolOutcome:
        argv = [sys.executable if i == 0 and arg == "python" else arg for i, arg in enumerate(argv)]
        shown = shlex.join(["python" if arg == sys.executable else arg for arg in argv])
        code, output = self._run(argv)
        lines = [line for line in output.splitlines() if line.strip()]
        detail = tuple(lines[:3]) + ((f"… +{len(lines) - 3} lines",) if len(lines) > 3 else ())
        if not lines:
            detail = (f"(exit {code})",) if code else ("(no output)",)
        return ToolOutcome("Bash", "exec", (), f"Bash({shown})", detail, code == 0, shown)

    def commit(self, message: str, only: Sequence[str] = ()) -> ToolOutcome:
        """`git add` then `git commit`; with `only`, just those paths, as lock claims are.

        corral's own folder is left out when it sits inside the worktree, so a journal never
        ends up in a commit.
        """
        pathspec = ["--", *only] if only else []
        excluded = [f":(exclude){path}" for path in self._exclude]
        add = ["git", "add", "-A", *(pathspec or (["--", ".", *excluded] if excluded else []))]
        code, output = self._run(add)
        if code == 0:
            commit = [*self._git_identity(), "commit", "-q", "-m", message, *pathspec]
            code, output = self._run(commit)
        shown = f"git add -A && git commit -m {shlex.quote(message)}"
        if only:
            paths = shlex.join(only)
            shown = f"git add -A -- {paths} && git commit -m {shlex.quote(message)} -- {paths}"
        detail: tuple[str, ...]
        if code == 0:
            detail = (f"Committed: {message}",)
        elif "nothing to commit" in output or "nothing added" in output:
            detail = ("Nothing to commit",)
        else:
            detail = tuple(output.strip().splitlines()[:2]) or (f"git failed (exit {code})",)
        return ToolOutcome("Bash", "exec", tuple(only), f"Bash({shown})", detail, code == 0, shown)

    def progress(
        self, text: str | None = None, item: str | None = None, tick: str | None = None
    ) -> ToolOutcome:
        target = self.root / PROGRESS
        existed = target.exists()
        before = (self._text(PROGRESS) or "") if existed else PROGRESS_HEADER
        after = before
        if text is not None:
            after = _appended(after, text)
        if item is not None:
            after = _appended(after, f"- [ ] {item}")
        if tick is not None:
            after = _ticked(after, tick)
        target.write_text(after, encoding="utf-8")
        if not existed:
            detail = (f"Wrote {_count(after)} to {PROGRESS}",)
            return ToolOutcome("Write", "edit", (PROGRESS,), f"Write({PROGRESS})", detail)
        detail = (_changed(PROGRESS, before, after),)
        return ToolOutcome("Edit", "edit", (PROGRESS,), f"Update({PROGRESS})", detail)

    def note(self, topic: str, text: str) -> ToolOutcome:
        path = f"notes/{slug(topic)}.md"
        target = self.root / path
        if not target.exists():
            return self.write(path, f"# {topic}\n\n{text}")
        return self.edit(path, text=text)

    def lock(self, task: str) -> list[ToolOutcome]:
        path = lock_path(task)
        body = f"created_at_unix={int(time.time())}\nagent_id={self.agent}\ntask={task}\n"
        return [self.write(path, body), self.commit(f"Claim task: {task}", only=[path])]

    def unlock(self, task: str) -> list[ToolOutcome]:
        path = lock_path(task)
        (self.root / path).unlink(missing_ok=True)
        return [self.commit(f"Release task: {task}", only=[path])]

    def _git_identity(self) -> list[str]:
        email = f"{identifier(self.agent)}@corral.invalid"
        return ["git", "-c", f"user.name={self.agent}", "-c", f"user.email={email}"]

    def _text(self, path: str) -> str | None:
        try:
            target = self.root / path
            if target.stat().st_size > MAX_READ:
                return None
            return target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def _fresh(self, path: str) -> str:
        self._edits += 1
        if PurePosixPath(path).suffix == ".py":
            return _function(self.agent, 1)
        return f"{_comment(path)} {self.agent}: edit {self._edits}\n"

    def _automatic(self, path: str, before: str) -> str:
        """Rewrites the agent's own function in a Python module, else appends a line."""
        self._edits += 1
        if PurePosixPath(path).suffix != ".py":
            return _appended(before, f"{_comment(path)} {self.agent}: edit {self._edits}")
        pattern = re.compile(
            rf"(def corral_sim_{identifier(self.agent)}\(\) -> int:\n    return )(\d+)\n"
        )
        found = pattern.search(before)
        if found is None:
            return _appended(before, "\n\n" + _function(self.agent, 1).rstrip("\n"))
        value = int(found.group(2)) + 1
        return before[: found.start()] + f"{found.group(1)}{value}\n" + before[found.end() :]


def slug(text: str) -> str:
    """A file-name-safe form of a task or topic that cannot leave its folder."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "task"


def lock_path(task: str) -> str:
    return f"current_tasks/{slug(task)}.txt"


def _function(agent: str, value: int) -> str:
    return f"def corral_sim_{identifier(agent)}() -> int:\n    return {value}\n"


def _comment(path: str) -> str:
    return _LINE_COMMENTS.get(PurePosixPath(path).suffix, "#")


def _appended(before: str, text: str) -> str:
    joined = before if not before or before.endswith("\n") else before + "\n"
    return joined + (text if text.endswith("\n") else text + "\n")


def _ticked(before: str, item: str) -> str:
    lines = before.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.rstrip("\n").strip() == f"- [ ] {item}":
            lines[index] = line.replace("- [ ]", "- [x]", 1)
            return "".join(lines)
    return _appended(before, f"- [x] {item}")


def _count(text: str) -> str:
    return _plural(len(text.splitlines()), "line")


def _plural(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _changed(path: str, before: str, after: str) -> str:
    old, new = before.splitlines(), after.splitlines()
    common = sum(1 for a, b in zip(old, new, strict=False) if a == b)
    added, removed = len(new) - common, len(old) - common
    added_text, removed_text = _plural(added, "addition"), _plural(removed, "removal")
    return f"Updated {path} with {added_text} and {removed_text}"
