"""Git's answers to questions about branches alone, kept while no branch moves.

The lock survey asks git the same handful of questions on every look: the base branch's lock
files and their history, the branch list, the branches' reflogs. Their answers depend only on
the refs and reflogs (commits never change), and a script polling `corral ls` starts a new
process for each look, which asked all of them again. So answers are kept, in memory and in
`.corral/cache/`, with what the ref and reflog files looked like on disk (`Repo.refs_mark`):
while that stays the same, no answer can have changed. Anything that does not fit is dropped
and git is asked; where the refs live in a reftable, which that cannot see into, git is always
asked.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from pathlib import Path

from sessions.adapters.private import write_private
from sessions.adapters.repo import Repo, git

MEMO_FILE = "git_reads.json"
# Everything the kept questions read: every branch, their reflogs, and replacements.
WATCHED = ("refs/heads", "logs/refs/heads", "refs/replace")


class GitMemo:
    """Answers of read-only git commands whose output follows from the refs alone."""

    def __init__(self, repo: Repo, saved: Path | None = None) -> None:
        self.repo = repo
        self.saved = saved
        self._mark: str | None = None
        self._answers: dict[str, tuple[int, str, str]] = {}
        self._loaded = saved is None
        self._added = False

    def git(self, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        """What `git(cwd, *args, check=False)` gives, from memory while no ref has moved."""
        mark = self._current()
        key = json.dumps([str(cwd), *args])
        if mark is not None and key in self._answers:
            code, out, err = self._answers[key]
            return subprocess.CompletedProcess(["git", *args], code, out, err)
        result = git(cwd, *args, check=False)
        if mark is not None:
            self._answers[key] = (result.returncode, result.stdout, result.stderr)
            self._added = True
        return result

    def save(self) -> None:
        """Keep what was asked since the last save for the next process; a cache only, so a
        write that fails costs time, nothing else."""
        if not self._added or self.saved is None or self._mark is None:
            return
        self._added = False
        data = {"mark": self._mark, "answers": self._answers}
        with contextlib.suppress(OSError):
            write_private(self.saved, json.dumps(data))

    def _current(self) -> str | None:
        """The refs' mark now; the answers kept for another mark are dropped."""
        found = self.repo.refs_mark(*WATCHED)
        mark = None if found is None else json.dumps(found)
        if not self._loaded:
            self._loaded = True
            self._mark, self._answers = _load(self.saved)
        if mark != self._mark:
            self._mark, self._answers, self._added = mark, {}, False
        return mark


def _load(path: Path | None) -> tuple[str | None, dict[str, tuple[int, str, str]]]:
    if path is None:
        return None, {}
    try:
        data = json.loads(path.read_bytes())
        answers = {}
        for key, (code, out, err) in data["answers"].items():
            if not (isinstance(code, int) and isinstance(out, str) and isinstance(err, str)):
                raise TypeError("not an answer")
            answers[str(key)] = (code, out, err)
        mark = data["mark"]
        return (mark if isinstance(mark, str) else None), answers
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None, {}
