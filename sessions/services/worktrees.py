"""Git worktrees and branches of agents: create or reuse, list, snapshot, remove, merge.

An agent's branch and worktree may hold the only copy of hours of work, so this module reuses
whatever already exists instead of resetting it, and anything that discards files first saves
them under a ref (or, for what no ref can hold, moves them under `.corral/kept/`) and says
where. The one worktree it deletes unasked is one a killed start left half-made, and only when
it holds nothing but part of git's checkout. Git runs through `sessions.adapters.repo.git`, without
optional locks, and a snapshot only reads the agent's index, so it can be taken while the
agent works.

`Worktrees` is what the rest of corral calls; it makes and lists worktrees itself and hands the
rest to one module each: `saved_work`, `worktree_half_made`, `worktree_removal` and
`worktree_merge`, all on top of the git plumbing in `worktree_git`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sessions.adapters.repo import Repo
from sessions.adapters.worktree_git import (
    WorktreeEntry,
    absolute,
    branch_ref,
    by_branch,
    by_path,
    check_ref,
    commit_of,
    is_merged,
    list_worktrees,
    missing_base,
    quoted,
    run,
)
from sessions.core.errors import AgentError

# Making, saving, removing and merging load when first used: every `corral ls` loads this
# module, and each of theirs costs its start-up time.
if TYPE_CHECKING:
    from sessions.core.worktree_values import Leftovers, Merged, MergePreview, RemovalPlan
    from sessions.services.saved_work import SavedWork
    from sessions.services.worktree_removal import Removal


@dataclass(frozen=True)
class Ensured:
    """The agent's worktree after `ensure`, and what had to be created or repaired for it."""

    path: Path
    branch: str
    created_worktree: bool
    created_branch: bool
    note: str | None


class Worktrees:
    """The worktrees and `corral/<name>` branches of one repository."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo

    # -- looking ---------------------------------------------------------------------------

    def path_for(self, name: str, template: str) -> Path:
        folder = Path(template.replace("{repo}", self.repo.root.name)).expanduser()
        if not folder.is_absolute():
            folder = self.repo.root / folder
        return folder.resolve() / name

    def list(self) -> list[WorktreeEntry]:
        return list_worktrees(self.repo.root)

    def is_merged(self, branch: str, base: str) -> bool:
        """True when `base` reaches every commit of `branch`, so deleting the branch loses none."""
        return is_merged(self.repo, branch, base)

    # -- ensure ----------------------------------------------------------------------------

    def ensure(self, name: str, branch: str, base: str, path: Path) -> Ensured:
        """Give the agent its worktree, reusing an existing branch and worktree as they are.

        A worktree an interrupted start left half-made is made again when it holds nothing but
        part of git's checkout, and refused otherwise with the command that gets past it.
        """
        from sessions.services.worktree_half_made import done_making, finish_half_made, read_making

        path = absolute(path)
        branch = branch.removeprefix("refs/heads/")
        check_ref(self.repo.root, branch_ref(branch), f"agent {name}'s branch")
        making = read_making(self.repo, name)
        note = finish_half_made(self.repo, name, branch, base, path, making)
        entries = self.list()
        owner = by_branch(entries, branch)
        if owner is not None:
            if owner.path == path and not owner.prunable:
                done_making(self.repo, name)
                return Ensured(path, branch, False, False, note)
            self._check_stale_owner(owner, branch, path, entries[0])
            run(self.repo.root, "worktree", "remove", str(owner.path), doing="forget a worktree")
            entries = [entry for entry in entries if entry is not owner]
            note = _recreated_note(owner.path, path, branch)
        self._check_path_free(path, branch, entries)
        tip = commit_of(self.repo.root, branch_ref(branch))
        created_branch = tip is None
        start = None
        if created_branch:
            start = commit_of(self.repo.root, base)
            if start is None:
                raise AgentError(missing_base(base, self.repo.current_branch()))
        self._add(name, path, branch, start, tip)
        return Ensured(path, branch, True, created_branch, note)

    def _add(self, name: str, path: Path, branch: str, start: str | None, tip: str | None) -> None:
        """A new branch is made on its own first, and the worktree added on it after.

        `git worktree add -b` makes the branch and only then reads the other worktrees, so when
        it met a half-made one (see `worktree_git.run`) the branch was left behind and the retry
        failed on it ("a branch named ... already exists"). `update-ref` reads no worktree, and
        a retried `worktree add` on an existing branch is the same command again.

        A note under `.corral/making/` says what the branch was before any of it, for as long as
        the add runs: a start killed meanwhile leaves it, and the next one knows from it that
        nothing was committed on the branch since (`finish_half_made`).
        """
        from sessions.services.worktree_half_made import Making, done_making, note_making

        note_making(self.repo, Making(path, branch, start or tip, start is not None), name)
        if start:
            run(
                self.repo.root,
                "update-ref",
                "-m",
                f"branch: Created from {start}",
                branch_ref(branch),
                start,
                "",
                doing=f"create the branch {branch}",
            )
        run(
            self.repo.root,
            "worktree",
            "add",
            "--quiet",
            str(path),
            branch,
            doing=f"create the worktree {path}",
        )
        done_making(self.repo, name)

    def _check_stale_owner(
        self, owner: WorktreeEntry, branch: str, path: Path, main: WorktreeEntry
    ) -> None:
        """Only a registration whose folder is gone may be forgotten; anything else is in use."""
        if owner is main:
            raise AgentError(
                f"branch {branch} is checked out in the main checkout {owner.path}: switch that "
                f"checkout to another branch (git -C {quoted(owner.path)} switch -) and try again."
            )
        if owner.locked:
            raise AgentError(
                f"the worktree {owner.path} of branch {branch} is locked: unlock it with "
                f"`git worktree unlock {quoted(owner.path)}` if it is no longer needed, "
                "then try again."
            )
        if owner.path.exists():
            where = "is broken (its .git file is gone)" if owner.path == path else "is in use"
            raise AgentError(
                f"branch {branch} is already checked out in {owner.path}, which {where}: move or "
                f"remove that folder (git worktree remove {quoted(owner.path)}) and try again."
            )

    def _check_path_free(self, path: Path, branch: str, entries: Sequence[WorktreeEntry]) -> None:
        taken = by_path(entries, path)
        if taken is not None:
            what = f"branch {taken.branch}" if taken.branch else f"a detached HEAD {_short(taken)}"
            fix = "run `git worktree prune`" if taken.prunable else "remove or move it"
            if taken.locked:
                # git never calls a locked worktree prunable, nor prunes or removes one.
                then = "run `git worktree prune`" if not path.exists() else "remove or move it"
                fix = f"unlock it with `git worktree unlock {quoted(path)}`, then {then}"
            raise AgentError(
                f"{path} is already the worktree of {what}, not of {branch}: {fix}, "
                "or set `worktrees` in corral.toml to another folder."
            )
        if path.is_symlink() or (path.exists() and not _is_empty_dir(path)):
            hint = ""
            if (path / ".git").is_file():
                hint = f" (a moved worktree? `git worktree repair {quoted(path)}` reconnects it)"
            raise AgentError(
                f"{path} already exists and is not the worktree of {branch}: move it away or "
                f"set `worktrees` in corral.toml to another folder{hint}."
            )

    # -- snapshot --------------------------------------------------------------------------

    def snapshot(
        self, path: Path, ref: str, message: str, leave_out: Sequence[str] = ()
    ) -> SavedWork | None:
        """Save uncommitted work under `ref` without touching the agent's branch, index or files."""
        from sessions.services import saved_work

        return saved_work.snapshot(self.repo, path, ref, message, leave_out)

    def current_commit(self, path: Path) -> str:
        """A commit of the worktree's files as they are now, on top of its HEAD."""
        from sessions.services import saved_work

        return saved_work.current_commit(self.repo, path)

    def current_files(self, path: Path) -> tuple[str, str]:
        """The worktree's HEAD and `current_commit`, from the same reads."""
        from sessions.services import saved_work

        return saved_work.current_files(self.repo, path)

    # -- remove ----------------------------------------------------------------------------

    def remove(self, path: Path, name: str, branch: str, base: str) -> Removal:
        """Delete the agent's worktree after saving its work; keep the branch unless merged."""
        from sessions.services import worktree_removal

        return worktree_removal.remove(self.repo, path, name, branch, base)

    def removal_plan(self, name: str, path: Path | None) -> RemovalPlan:
        """What `remove` would move aside from the worktree at `path`, and where, now."""
        from sessions.services import worktree_removal

        return worktree_removal.removal_plan(self.repo, name, path)

    def leftovers(self, path: Path) -> Leftovers:
        """What the worktree at `path` holds that no ref can: its ignored files and folders and
        its nested repositories."""
        from sessions.services import worktree_removal

        return worktree_removal.leftovers_of(path)

    # -- merge -----------------------------------------------------------------------------

    def merge_preview(self, name: str, branch: str, base: str) -> MergePreview:
        """What merging the agent's `branch` into `base` would do, safe to ask at any time."""
        from sessions.services import worktree_merge

        return worktree_merge.merge_preview(self.repo, name, branch, base)

    def merge(
        self,
        name: str,
        branch: str,
        base: str,
        message: str | None = None,
        include_uncommitted: bool = False,
    ) -> Merged:
        """Merge the agent's committed work into `base`, checked out at the repository root."""
        from sessions.services import worktree_merge

        return worktree_merge.merge(self.repo, name, branch, base, message, include_uncommitted)


# -- small pure helpers -----------------------------------------------------------------------


def _is_empty_dir(path: Path) -> bool:
    return path.is_dir() and not any(path.iterdir())


def _short(entry: WorktreeEntry) -> str:
    return (entry.head or "")[:12] or "(unknown)"


def _recreated_note(old: Path, new: Path, branch: str) -> str:
    if old == new:
        return (
            f"worktree folder was deleted by hand; recreated it from branch {branch} "
            "(its commits are intact)"
        )
    return (
        f"the old worktree folder {old} of branch {branch} was deleted by hand; created a new "
        f"one at {new} from the branch (its commits are intact)"
    )
