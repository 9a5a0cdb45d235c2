"""The repository corral supervises: where it is, its `.corral/` folder, its tmux socket name.

Every worktree of a repository shares one `.corral/` folder at the main checkout's root, so the
command line gives the same answers whichever worktree it is run from.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sessions.adapters.private import private_folder
from sessions.core.errors import NotARepoError

STATE_DIR = ".corral"
EXCLUDE_MARK = "# corral: its state and per-worktree agent settings"
EXCLUDED = (f"/{STATE_DIR}/", ".claude/settings.local.json", ".gemini/settings.json")


def git(
    cwd: Path, *args: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run git without optional locks so that reading never blocks or disturbs an agent."""
    full_env = dict(os.environ)
    full_env["GIT_OPTIONAL_LOCKS"] = "0"
    full_env["LC_ALL"] = "C"
    if env:
        full_env.update(env)
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            check=check,
        )
    except FileNotFoundError as error:
        raise NotARepoError(
            "git is not installed: install it (apt-get install git) and try again."
        ) from error


@dataclass(frozen=True)
class Repo:
    """A git repository with at least one commit, seen from its main checkout."""

    root: Path
    common_dir: Path

    @classmethod
    def discover(cls, start: Path) -> Repo:
        if not start.is_dir():
            raise NotARepoError(f"{start} is not a folder: pass --repo with a git repository.")
        # One git process for both answers: every command, `corral ls` included, starts here.
        args = ("rev-parse", "--path-format=absolute", "--git-common-dir", "--is-bare-repository")
        result = git(start, *args, check=False)
        lines = result.stdout.splitlines()
        if result.returncode != 0 or len(lines) != 2:
            raise NotARepoError(
                f"{start} is not inside a git repository: run corral in one, "
                "or create one with `git init` and a first commit."
            )
        common, bare = Path(lines[0].strip()), lines[1].strip()
        if bare == "true":
            raise NotARepoError(
                f"{common} is a bare repository: run corral in a checkout with a working tree."
            )
        root = (
            common.parent
            if common.name == ".git"
            else Path(git(start, "rev-parse", "--show-toplevel").stdout.strip())
        )
        repo = cls(root=root.resolve(), common_dir=common.resolve())
        if git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False).returncode:
            raise NotARepoError(
                f"{root} has no commit yet: commit something first, since agents branch from it."
            )
        return repo

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def journal_path(self) -> Path:
        return self.state_dir / "journal.jsonl"

    @property
    def launch_dir(self) -> Path:
        return self.state_dir / "agents"

    @property
    def config_path(self) -> Path:
        return self.root / "corral.toml"

    @property
    def socket_name(self) -> str:
        """One tmux server per repository, never the user's default server."""
        digest = hashlib.sha1(str(self.root).encode()).hexdigest()[:8]
        return f"corral-{self.root.name[:20]}-{digest}"

    def current_branch(self) -> str | None:
        """The main checkout's branch. Read from its HEAD file when that is the plain
        `ref: refs/heads/<name>` git writes: the app asks on every look, and a git process
        each time is most of what an idle look costs; git answers anything else."""
        if self.common_dir.name == ".git":
            try:
                head = (self.common_dir / "HEAD").read_text().strip()
            except OSError:
                head = ""
            if head.startswith("ref: refs/heads/"):
                return head.removeprefix("ref: refs/heads/")
        result = git(self.root, "symbolic-ref", "--quiet", "--short", "HEAD", check=False)
        return result.stdout.strip() or None

    def checked_out(self, worktree: Path) -> str | None:
        """The branch an agent's worktree has checked out, read from its HEAD file as
        `current_branch` reads the main checkout's; None when that is anything but the plain
        `ref: refs/heads/<name>` (detached, unreadable), for the caller to ask git."""
        dot_git = worktree / ".git"
        try:
            if dot_git.is_dir():
                head = (dot_git / "HEAD").read_text()
            else:
                pointer = dot_git.read_text().strip()
                if not pointer.startswith("gitdir:"):
                    return None
                admin = Path(pointer.removeprefix("gitdir:").strip())
                head = ((admin if admin.is_absolute() else worktree / admin) / "HEAD").read_text()
        except OSError:
            return None
        head = head.strip()
        return (
            head.removeprefix("ref: refs/heads/") if head.startswith("ref: refs/heads/") else None
        )

    def refs_mark(self, *refs: str) -> tuple[tuple[str, int, int, int], ...] | None:
        """What the files behind `refs` (a branch, or a folder of them) look like on disk,
        with packed-refs: while it stays the same, no tip they name has moved. Asking git
        costs a process per look, and an idle herd's branches do not move.

        None when the refs live in a reftable, which this cannot see into.
        """
        if (self.common_dir / "reftable").exists():
            return None
        found: list[tuple[str, int, int, int]] = []
        paths = [self.common_dir / "packed-refs", *(self.common_dir / ref for ref in refs)]
        while paths:
            path = paths.pop()
            try:
                info = path.stat()
            except OSError:
                found.append((str(path), 0, 0, 0))
                continue
            found.append((str(path), info.st_ino, info.st_mtime_ns, info.st_size))
            if path.is_dir():
                with contextlib.suppress(OSError):
                    paths.extend(path.iterdir())
        return tuple(sorted(found))

    def prepare(self) -> None:
        """Create `.corral/` and keep it and agent settings out of git for every worktree."""
        private_folder(self.state_dir)
        exclude = self.common_dir / "info" / "exclude"
        exclude.parent.mkdir(parents=True, exist_ok=True)
        text = exclude.read_text() if exclude.exists() else ""
        missing = [line for line in EXCLUDED if line not in text.splitlines()]
        if missing:
            prefix = "" if not text or text.endswith("\n") else "\n"
            addition = "\n".join([EXCLUDE_MARK, *missing]) + "\n"
            with exclude.open("a") as handle:
                handle.write(prefix + addition)
