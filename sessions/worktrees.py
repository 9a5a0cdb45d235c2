"""Git worktrees and branches of agents: create or reuse, list, snapshot, remove.

An agent's branch and worktree may hold the only copy of hours of work, so this module reuses
whatever already exists instead of resetting it, and anything that discards files first saves
them under a ref and says where. Git runs through `sessions.repo.git`, without optional locks,
and a snapshot only reads the agent's index, so it can be taken while the agent works.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sessions.errors import AgentError
from sessions.repo import Repo, git

TRASH_PREFIX = "refs/corral/trash"
BEFORE_MERGE_PREFIX = "refs/corral/before-merge"
# A preview lists this many of the commits a merge brings, newest first; `ahead` counts them all.
PREVIEW_COMMITS = 20
HALF_MADE_ATTEMPTS = 4
_HALF_MADE = re.compile(r"failed to read \S*worktrees/[^/\s]+/(?:commondir|gitdir)")
FALLBACK_IDENT = {
    "GIT_AUTHOR_NAME": "corral",
    "GIT_AUTHOR_EMAIL": "corral@localhost",
    "GIT_COMMITTER_NAME": "corral",
    "GIT_COMMITTER_EMAIL": "corral@localhost",
}

# For commits that only stand for a worktree's current files: the same files, the same id.
FIXED_IDENT = {
    **FALLBACK_IDENT,
    "GIT_AUTHOR_DATE": "@0 +0000",
    "GIT_COMMITTER_DATE": "@0 +0000",
}

Command = tuple[str, ...]


@dataclass(frozen=True)
class WorktreeEntry:
    """One worktree as `git worktree list --porcelain` reports it; `branch` is the short name."""

    path: Path
    branch: str | None
    head: str | None
    prunable: bool
    locked: bool = False


@dataclass(frozen=True)
class Ensured:
    """The agent's worktree after `ensure`, and what had to be created or repaired for it."""

    path: Path
    branch: str
    created_worktree: bool
    created_branch: bool
    note: str | None


@dataclass(frozen=True)
class Snapshot:
    """A saved copy of uncommitted work, laid out like a `git stash` entry.

    `commit` holds the working files (untracked ones included) with parents HEAD and a commit of
    the staged state, so `git stash apply --index <ref>` brings both back onto a moved branch,
    and `git restore --source` from `ref` and `ref^2` brings them back exactly.
    """

    ref: str
    commit: str
    files: int


@dataclass(frozen=True)
class Removal:
    """What `remove` kept and where; `recovery` are the commands that `message` shows."""

    path: Path
    branch: str
    branch_kept: bool
    snapshot: Snapshot | None
    message: str
    head_ref: str | None = None
    recovery: tuple[Command, ...] = ()


@dataclass(frozen=True)
class _Checkout:
    """Where a worktree keeps its git files, read once per snapshot."""

    top: Path
    git_dir: Path
    index: Path
    head: str
    label: str


@dataclass(frozen=True)
class FileChange:
    """One file an agent's branch changed since it left the base; no counts for binary files."""

    path: str
    added: int | None
    removed: int | None


@dataclass(frozen=True)
class MergePreview:
    """What merging an agent's branch into the base would do, found without changing anything.

    Only commits are merged: `uncommitted` counts the files in the agent's worktree that stay
    behind, because corral never commits for an agent. `refusal` is the sentence `merge` would
    stop with right now (None when it would go ahead), so a preview and a merge never disagree.
    `files` are the branch's own changes since it left the base, as a review would show them.
    """

    agent: str
    branch: str
    base: str
    base_tip: str
    tip: str
    merge_base: str | None
    ahead: int
    behind: int
    fast_forward: bool
    commits: tuple[tuple[str, str], ...]
    files: tuple[FileChange, ...]
    conflicts: tuple[str, ...]
    worktree: Path | None
    uncommitted: int
    refusal: str | None

    @property
    def can_merge(self) -> bool:
        return self.refusal is None

    def to_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "branch": self.branch,
            "base": self.base,
            "base_tip": self.base_tip,
            "tip": self.tip,
            "merge_base": self.merge_base,
            "ahead": self.ahead,
            "behind": self.behind,
            "fast_forward": self.fast_forward,
            "commits": [{"commit": commit, "subject": subject} for commit, subject in self.commits],
            "files": [
                {"path": item.path, "added": item.added, "removed": item.removed}
                for item in self.files
            ],
            "conflicts": list(self.conflicts),
            "worktree": str(self.worktree) if self.worktree else None,
            "uncommitted": self.uncommitted,
            "can_merge": self.can_merge,
            "refusal": self.refusal,
        }

    def describe(self) -> str:
        """The preview as the command line prints it; the app can show the same lines."""
        if self.fast_forward:
            how = "a fast-forward"
        elif self.ahead == 0:
            how = "nothing to merge"
        elif self.conflicts:
            how = f"a merge that stops on {_count(len(self.conflicts), 'conflict')}"
        else:
            how = "a merge commit, no conflicts"
        lines = [
            f"{self.branch} into {self.base}: {_count(self.ahead, 'commit')} ahead, "
            f"{self.behind} behind; {how}"
        ]
        lines += [f"  {commit[:12]} {subject}" for commit, subject in self.commits]
        if self.ahead > len(self.commits):
            lines.append(f"  ... and {self.ahead - len(self.commits)} older")
        if self.files:
            lines.append(f"{_count(len(self.files), 'file')} changed:")
            lines += [f"  {_numbers(item):<12} {item.path}" for item in self.files]
        if self.conflicts:
            lines.append(f"would conflict in {_count(len(self.conflicts), 'file')}:")
            lines += [f"  {path}" for path in self.conflicts]
        if self.uncommitted:
            lines.append(
                f"{_count(self.uncommitted, 'uncommitted file')} in {self.worktree} stay behind: "
                f"`corral merge {self.agent}` merges only what {self.agent} has committed"
            )
        if self.refusal is not None:
            lines.append(f"corral would not merge now: {self.refusal}")
        else:
            lines.append(f"`corral merge {self.agent}` merges it")
        return "\n".join(lines)


@dataclass(frozen=True)
class Merged:
    """A merge that happened: `before` is kept at `ref`, and `undo` are the commands that
    `message` shows for taking it back."""

    agent: str
    branch: str
    base: str
    before: str
    after: str
    fast_forward: bool
    ref: str
    undo: tuple[Command, ...]
    message: str
    preview: MergePreview


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
        out = _run(self.repo.root, "worktree", "list", "--porcelain", "-z", doing="list worktrees")
        return _parse_worktrees(out)

    def is_merged(self, branch: str, base: str) -> bool:
        """True when `base` reaches every commit of `branch`, so deleting the branch loses none."""
        tip = self._commit(_branch_ref(branch))
        if tip is None:
            raise AgentError(f"branch {branch} does not exist: nothing to compare with {base}.")
        target = self._commit(base)
        if target is None:
            raise AgentError(_missing_base(base, self.repo.current_branch()))
        result = git(self.repo.root, "merge-base", "--is-ancestor", tip, target, check=False)
        if result.returncode not in (0, 1):
            raise AgentError(f"git could not compare {branch} with {base} ({_reason(result)}).")
        return result.returncode == 0

    # -- ensure ----------------------------------------------------------------------------

    def ensure(self, name: str, branch: str, base: str, path: Path) -> Ensured:
        """Give the agent its worktree, reusing an existing branch and worktree as they are."""
        path = _absolute(path)
        branch = branch.removeprefix("refs/heads/")
        self._check_ref(_branch_ref(branch), f"agent {name}'s branch")
        entries = self.list()
        owner = _by_branch(entries, branch)
        note = None
        if owner is not None:
            if owner.path == path and not owner.prunable:
                return Ensured(path, branch, False, False, None)
            self._check_stale_owner(owner, branch, path, entries[0])
            _run(self.repo.root, "worktree", "remove", str(owner.path), doing="forget a worktree")
            entries = [entry for entry in entries if entry is not owner]
            note = _recreated_note(owner.path, path, branch)
        self._check_path_free(path, branch, entries)
        created_branch = self._commit(_branch_ref(branch)) is None
        start = None
        if created_branch:
            start = self._commit(base)
            if start is None:
                raise AgentError(_missing_base(base, self.repo.current_branch()))
        self._add(path, branch, start)
        return Ensured(path, branch, True, created_branch, note)

    def _add(self, path: Path, branch: str, start: str | None) -> None:
        """A new branch is made on its own first, and the worktree added on it after.

        `git worktree add -b` makes the branch and only then reads the other worktrees, so when
        it met a half-made one (see `_run`) the branch was left behind and the retry failed on
        it ("a branch named ... already exists"). `update-ref` reads no worktree, and a retried
        `worktree add` on an existing branch is the same command again.
        """
        if start:
            _run(
                self.repo.root,
                "update-ref",
                "-m",
                f"branch: Created from {start}",
                _branch_ref(branch),
                start,
                "",
                doing=f"create the branch {branch}",
            )
        _run(
            self.repo.root,
            "worktree",
            "add",
            "--quiet",
            str(path),
            branch,
            doing=f"create the worktree {path}",
        )

    def _check_stale_owner(
        self, owner: WorktreeEntry, branch: str, path: Path, main: WorktreeEntry
    ) -> None:
        """Only a registration whose folder is gone may be forgotten; anything else is in use."""
        if owner is main:
            raise AgentError(
                f"branch {branch} is checked out in the main checkout {owner.path}: switch that "
                f"checkout to another branch (git -C {_q(owner.path)} switch -) and try again."
            )
        if owner.locked:
            raise AgentError(
                f"the worktree {owner.path} of branch {branch} is locked: unlock it with "
                f"`git worktree unlock {_q(owner.path)}` if it is no longer needed, then try again."
            )
        if owner.path.exists():
            where = "is broken (its .git file is gone)" if owner.path == path else "is in use"
            raise AgentError(
                f"branch {branch} is already checked out in {owner.path}, which {where}: move or "
                f"remove that folder (git worktree remove {_q(owner.path)}) and try again."
            )

    def _check_path_free(self, path: Path, branch: str, entries: Sequence[WorktreeEntry]) -> None:
        taken = _by_path(entries, path)
        if taken is not None:
            what = f"branch {taken.branch}" if taken.branch else f"a detached HEAD {_short(taken)}"
            fix = "run `git worktree prune`" if taken.prunable else "remove or move it"
            raise AgentError(
                f"{path} is already the worktree of {what}, not of {branch}: {fix}, "
                "or set `worktrees` in corral.toml to another folder."
            )
        if path.is_symlink() or (path.exists() and not _is_empty_dir(path)):
            hint = ""
            if (path / ".git").is_file():
                hint = f" (a moved worktree? `git worktree repair {_q(path)}` reconnects it)"
            raise AgentError(
                f"{path} already exists and is not the worktree of {branch}: move it away or "
                f"set `worktrees` in corral.toml to another folder{hint}."
            )

    # -- snapshot --------------------------------------------------------------------------

    def snapshot(self, path: Path, ref: str, message: str) -> Snapshot | None:
        """Save uncommitted work under `ref` without touching the agent's branch, index or files.

        Both trees are built in temporary index files next to the worktree's own, so the agent
        can keep working meanwhile. An existing `ref` is never overwritten: its old commit
        becomes an extra parent of the new index commit, where `git stash apply` ignores it.
        """
        path = _absolute(path)
        self._check_ref(ref, "the snapshot ref")
        checkout = self._checkout(path)
        with _scratch(checkout.git_dir) as scratch:
            index_tree = _index_tree(checkout, scratch)
            work_tree = _work_tree(checkout, scratch)
        head_tree = _run(checkout.top, "rev-parse", f"{checkout.head}^{{tree}}", doing="read HEAD")
        if index_tree == work_tree == head_tree.strip():
            return None
        previous = self._commit(ref)
        env = self._ident_env()
        index_parents = [checkout.head] if previous is None else [checkout.head, previous]
        index_commit = self._commit_tree(
            index_tree, index_parents, f"index on {checkout.label}: {message}", env
        )
        text = message if previous is None else _replaces(message, ref, previous)
        commit = self._commit_tree(work_tree, [checkout.head, index_commit], text, env)
        self._set_ref(ref, commit, previous, "corral: snapshot of uncommitted work")
        files = _changed_paths(checkout.top, checkout.head, (index_tree, work_tree))
        return Snapshot(ref=ref, commit=commit, files=files)

    def current_commit(self, path: Path) -> str:
        """A commit of the worktree's files as they are now, on top of its HEAD.

        This is what merging the agent's branch would bring if it committed everything now
        (untracked files included, ignored ones not), so overlap with other agents can be judged
        before anyone commits. It is built through a throwaway index like `snapshot`, so the
        agent's index and files stay untouched. The identity and date are fixed, so the same
        files on the same HEAD always give the same commit: looking again adds no objects and
        the commit id can key a cache. Nothing uncommitted gives HEAD itself.
        """
        checkout = self._checkout(_absolute(path))
        with _scratch(checkout.git_dir) as scratch:
            tree = _files_tree(checkout, scratch)
        head_tree = _run(checkout.top, "rev-parse", f"{checkout.head}^{{tree}}", doing="read HEAD")
        if tree == head_tree.strip():
            return checkout.head
        message = f"corral: the files of {checkout.label} as they are"
        return self._commit_tree(tree, [checkout.head], message, dict(FIXED_IDENT))

    def _checkout(self, path: Path) -> _Checkout:
        if not path.is_dir():
            raise AgentError(f"{path} is not a folder: there is no work there to save.")
        found = git(
            path, "rev-parse", "--path-format=absolute", "--show-toplevel", "--git-common-dir",
            "--git-dir", "--git-path", "index", check=False,
        )  # fmt: skip
        lines = found.stdout.splitlines()
        if found.returncode != 0 or len(lines) != 4 or _absolute(Path(lines[0])) != path:
            raise AgentError(f"{path} is not the top folder of a git worktree: nothing to save.")
        if _absolute(Path(lines[1])) != self.repo.common_dir:
            raise AgentError(f"{path} belongs to another repository than {self.repo.root}.")
        head = self._commit("HEAD", cwd=path)
        if head is None:
            raise AgentError(
                f"{path} has no commit checked out (its HEAD is unborn): commit its work "
                "or copy it elsewhere first."
            )
        label = git(path, "symbolic-ref", "--quiet", "--short", "HEAD", check=False).stdout
        return _Checkout(
            top=path,
            git_dir=Path(lines[2]),
            index=Path(lines[3]),
            head=head,
            label=label.strip() or "(no branch)",
        )

    def _commit_tree(
        self, tree: str, parents: Sequence[str], message: str, env: dict[str, str]
    ) -> str:
        args = ["commit-tree", "--no-gpg-sign", tree, "-m", message]
        for parent in parents:
            args += ["-p", parent]
        return _run(self.repo.root, *args, env=env, doing="save a snapshot commit").strip()

    def _ident_env(self) -> dict[str, str]:
        """A stand-in identity when the user has none, so saving work never fails for it."""
        for var in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
            if git(self.repo.root, "var", var, check=False).returncode != 0:
                return dict(FALLBACK_IDENT)
        return {}

    # -- remove ----------------------------------------------------------------------------

    def remove(self, path: Path, name: str, branch: str, base: str) -> Removal:
        """Delete the agent's worktree after saving its work; keep the branch unless merged.

        Stop the agent first: whatever it writes between the snapshot and the deletion is lost.
        """
        path = _absolute(path)
        entries = self.list()
        if path == entries[0].path:
            raise AgentError(f"{path} is the main checkout: corral never removes it.")
        entry = _by_path(entries, path)
        if entry is None and path.exists():
            raise AgentError(
                f"{path} is not a worktree of {self.repo.root}: corral leaves it alone; "
                "delete it yourself if it is no longer needed."
            )
        if entry is not None and entry.locked:
            raise AgentError(
                f"the worktree {path} is locked: unlock it with "
                f"`git worktree unlock {_q(path)}` if it is no longer needed, then try again."
            )
        snapshot, head_ref, head = None, None, None
        if entry is not None:
            snapshot, head_ref, head = self._keep_work(entry, name)
            self._drop_worktree(path, snapshot, head_ref)
        kept, tip, branch_line = self._settle_branch(branch, base)
        recovery = self._recovery(path, branch, entry, head, kept, tip, snapshot)
        message = _removal_message(path, entry, snapshot, head_ref, branch_line, recovery)
        return Removal(path, branch, kept, snapshot, message, head_ref, recovery)

    def _keep_work(
        self, entry: WorktreeEntry, name: str
    ) -> tuple[Snapshot | None, str | None, str | None]:
        """Save uncommitted work, and a detached HEAD that no branch would keep alive."""
        ref = self._free_ref(f"{TRASH_PREFIX}/{name}/{_stamp()}")
        snapshot = None
        if entry.path.is_dir() and not entry.prunable:
            text = f"corral: uncommitted work of {name}, saved before removing {entry.path}"
            snapshot = self.snapshot(entry.path, ref, text)
        head = entry.head
        if snapshot is not None:
            head = _run(self.repo.root, "rev-parse", f"{snapshot.commit}^1", doing="read").strip()
        if snapshot is None and entry.branch is None and head is not None:
            self._set_ref(ref, head, None, "corral: detached HEAD of a removed worktree")
            return None, ref, head
        return snapshot, None, head

    def _drop_worktree(self, path: Path, snapshot: Snapshot | None, head_ref: str | None) -> None:
        result = git(self.repo.root, "worktree", "remove", "--force", str(path), check=False)
        if result.returncode != 0:
            saved = snapshot.ref if snapshot else head_ref
            kept = f"; its work is saved at {saved}" if saved else ""
            raise AgentError(
                f"git could not remove the worktree {path} ({_reason(result)}){kept}: "
                "fix that and try again."
            )

    def _settle_branch(self, branch: str, base: str) -> tuple[bool, str | None, str]:
        """Delete the branch only when base has all its commits.

        This runs after the worktree is gone, so it reports problems in its line of the message
        instead of raising them and losing the rest of the message.
        """
        ref = _branch_ref(branch)
        tip = self._commit(ref)
        if tip is None:
            return False, None, f"There was no branch {branch}."
        try:
            why = self._reason_to_keep(branch, base, tip)
            if why is None:
                _run(self.repo.root, "update-ref", "-d", ref, tip, doing=f"delete {branch}")
        except AgentError as error:
            why = str(error).rstrip(".")
        if why is not None:
            return True, tip, f"Branch {branch} is kept: {why}."
        git(self.repo.root, "config", "--remove-section", f"branch.{branch}", check=False)
        line = f"Branch {branch} was deleted: all its commits are in {base} (its tip was {tip})."
        return False, tip, line

    def _reason_to_keep(self, branch: str, base: str, tip: str) -> str | None:
        holder = _by_branch(self.list(), branch)
        if holder is not None:
            return f"it is checked out in {holder.path}"
        target = self._commit(base)
        if target is None:
            return f"the base {base} was not found, so corral could not tell whether it is merged"
        if self.is_merged(branch, base):
            return None
        out = _run(self.repo.root, "rev-list", "--count", tip, f"^{target}", doing="count commits")
        count = int(out.strip())
        verb = "is" if count == 1 else "are"
        return f"{_count(count, 'commit')} {verb} not in {base}"

    def _recovery(
        self,
        path: Path,
        branch: str,
        entry: WorktreeEntry | None,
        head: str | None,
        kept: bool,
        tip: str | None,
        snapshot: Snapshot | None,
    ) -> tuple[Command, ...]:
        """The commands that put the worktree back as it was, checked by the tests."""
        root = str(self.repo.root)
        if entry is None:
            if tip is None or kept:
                return ()
            return (("git", "-C", root, "branch", branch, tip),)
        add: Command
        if entry.branch == branch and kept:
            add = ("git", "-C", root, "worktree", "add", str(path), branch)
        elif entry.branch == branch and tip is not None:
            add = ("git", "-C", root, "worktree", "add", "-b", branch, str(path), tip)
        elif entry.branch is not None:
            add = ("git", "-C", root, "worktree", "add", str(path), entry.branch)
        elif head is not None:
            add = ("git", "-C", root, "worktree", "add", "--detach", str(path), head)
        else:
            return ()
        if snapshot is None:
            return (add,)
        return (add, *_restore_commands(path, snapshot.ref))

    # -- refs ------------------------------------------------------------------------------

    def _commit(self, rev: str, cwd: Path | None = None) -> str | None:
        result = git(
            cwd or self.repo.root,
            "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}",
            check=False,
        )  # fmt: skip
        if result.returncode != 0:
            return None
        return result.stdout.strip() or None

    def _check_ref(self, ref: str, what: str) -> None:
        bad = git(self.repo.root, "check-ref-format", ref, check=False).returncode != 0
        if bad or not ref.startswith("refs/"):
            raise AgentError(f"{ref!r} is not a valid name for {what}: use letters, digits and -.")

    def _free_ref(self, ref: str) -> str:
        """A ref name nobody uses yet, so two removals in one second keep both."""
        candidate, number = ref, 1
        while self._commit(candidate) is not None:
            number += 1
            candidate = f"{ref}-{number}"
        return candidate

    def _set_ref(self, ref: str, commit: str, previous: str | None, reason: str) -> None:
        """Move `ref` only if it still holds `previous`, so a concurrent writer is never lost."""
        old = previous or ""
        _run(self.repo.root, "update-ref", "-m", reason, ref, commit, old, doing=f"write {ref}")

    # -- merge -----------------------------------------------------------------------------

    def merge_preview(self, name: str, branch: str, base: str) -> MergePreview:
        """What merging the agent's `branch` into `base` would do, safe to ask at any time.

        git writes objects here (the trial merge's trees) but no ref, index or file, and reads
        the agent's worktree and the base checkout without optional locks, so neither the agent
        nor the user notices.
        """
        branch = branch.removeprefix("refs/heads/")
        base = base.removeprefix("refs/heads/")
        tip = self._commit(_branch_ref(branch))
        if tip is None:
            raise AgentError(f"{name} has no branch {branch}: there is nothing of it to merge.")
        base_tip = self._commit(_branch_ref(base))
        if base_tip is None:
            raise AgentError(_not_a_base_branch(base, self.repo.current_branch()))
        root = self.repo.root
        merge_base = _merge_base_of(root, base_tip, tip)
        ahead = _rev_count(root, tip, base_tip)
        behind = _rev_count(root, base_tip, tip)
        fast_forward = ahead > 0 and behind == 0
        merged: str | None = base_tip if ahead == 0 else tip
        conflicts: tuple[str, ...] = ()
        if merge_base is None:
            merged = None
        elif ahead > 0 and not fast_forward:
            merged, conflicts = self._trial_merge(base_tip, tip)
        entry = _by_branch(self.list(), branch)
        worktree = None
        if entry is not None and not entry.prunable and entry.path.is_dir():
            worktree = entry.path
        preview = MergePreview(
            agent=name,
            branch=branch,
            base=base,
            base_tip=base_tip,
            tip=tip,
            merge_base=merge_base,
            ahead=ahead,
            behind=behind,
            fast_forward=fast_forward,
            commits=_commit_lines(root, tip, base_tip),
            files=_file_changes(root, merge_base, tip) if merge_base else (),
            conflicts=conflicts,
            worktree=worktree,
            uncommitted=_uncommitted(worktree) if worktree else 0,
            refusal=None,
        )
        return replace(preview, refusal=self._merge_refusal(preview, merged))

    def merge(
        self,
        name: str,
        branch: str,
        base: str,
        message: str | None = None,
        include_uncommitted: bool = False,
    ) -> Merged:
        """Merge the agent's committed work into `base`, checked out at the repository root.

        Whatever the preview would refuse is refused before anything changes. The base's tip
        is kept under `refs/corral/before-merge/` first, so the merge can always be undone. The
        agent's worktree, index and branch are only read. corral never commits for an agent,
        so `include_uncommitted` cannot add its uncommitted files: it asks for all of its work
        and refuses while some is uncommitted, rather than merge a part that looks like the
        whole. `message` is for the merge commit; a fast-forward makes no commit.
        """
        preview = self.merge_preview(name, branch, base)
        if preview.refusal is not None:
            raise AgentError(preview.refusal)
        if include_uncommitted and preview.uncommitted:
            raise AgentError(
                f"{name} has {_count(preview.uncommitted, 'uncommitted file')} in "
                f"{preview.worktree}, and corral never commits for an agent: ask it to commit "
                f'(corral send {name} "Commit your work"), then merge again.'
            )
        root = self.repo.root
        ref = self._free_ref(f"{BEFORE_MERGE_PREFIX}/{name}/{_stamp()}")
        self._check_ref(ref, "the ref that keeps the base before the merge")
        self._set_ref(ref, preview.base_tip, None, f"corral: {base} before merging {branch}")
        args = ["merge", "--quiet", "--no-autostash", "--no-squash", "--no-edit"]
        if preview.fast_forward:
            args.append("--ff-only")
        else:
            subject = preview.commits[0][1] if preview.commits else preview.tip[:12]
            args += ["--no-ff", "--commit", "-m", message or f"Merge {branch}: {subject}"]
        result = git(root, *args, preview.tip, env=self._ident_env(), check=False)
        if result.returncode != 0:
            raise AgentError(self._failed_merge(preview, ref, _reason(result)))
        after = self._commit(_branch_ref(base)) or preview.tip
        fast_forward = after == preview.tip
        undo: list[Command] = [("git", "-C", str(root), "reset", "--keep", ref)]
        if not fast_forward:
            undo.append(("git", "-C", str(root), "revert", "-m", "1", after))
        text = _merged_message(preview, after, fast_forward, ref, tuple(undo))
        return Merged(
            agent=name,
            branch=preview.branch,
            base=base,
            before=preview.base_tip,
            after=after,
            fast_forward=fast_forward,
            ref=ref,
            undo=tuple(undo),
            message=text,
            preview=preview,
        )

    def _trial_merge(self, ours: str, theirs: str) -> tuple[str, tuple[str, ...]]:
        """The tree merging `theirs` into `ours` gives, and the paths where it would stop."""
        args = ("merge-tree", "--write-tree", "--name-only", "--no-messages", "-z", ours, theirs)
        result = git(self.repo.root, *args, check=False)
        if result.returncode not in (0, 1):
            raise AgentError(f"git could not try the merge ({_reason(result)}): fix that first.")
        tree, *paths = result.stdout.split("\0")
        return tree.strip(), tuple(dict.fromkeys(path for path in paths if path))

    def _merge_refusal(self, preview: MergePreview, merged: str | None) -> str | None:
        """Why the merge cannot go ahead now, in one sentence, or None when it can.

        What only the agent can fix comes before what only the user can fix in the base.
        """
        branch, base, agent, root = preview.branch, preview.base, preview.agent, self.repo.root
        if preview.merge_base is None or merged is None:
            return f"{branch} and {base} share no history: git would not merge them."
        if preview.ahead == 0:
            left = ""
            if preview.uncommitted:
                left = (
                    f", and its {_count(preview.uncommitted, 'uncommitted file')} stay in "
                    f"{preview.worktree} until {agent} commits them"
                )
            return f"{branch} has nothing to merge: {base} already has all its commits{left}."
        if preview.conflicts:
            return (
                f"merging {branch} into {base} would conflict in {_listing(preview.conflicts)}: "
                f"have {agent} merge {base} into its branch and resolve them (corral send {agent} "
                f'"Merge {base} into your branch, resolve the conflicts and commit"), '
                "then merge again."
            )
        current = self.repo.current_branch()
        if current != base:
            where = f"it is on {current}" if current else "its HEAD is detached"
            return (
                f"{base} is not checked out in {root} ({where}): switch to it with "
                f"`git -C {_q(root)} switch {base}`, then merge again."
            )
        changed = _tracked_changes(root)
        if changed:
            return (
                f"the base checkout {root} has uncommitted changes ({_listing(changed)}): "
                "commit or stash them there, then merge again."
            )
        in_the_way = _in_the_way(root, preview.base_tip, merged)
        if in_the_way:
            return (
                f"the merge would overwrite files in {root} that git does not track "
                f"({_listing(in_the_way)}): move them away, then merge again."
            )
        return None

    def _failed_merge(self, preview: MergePreview, ref: str, reason: str) -> str:
        """Put the base back as it was when git stopped halfway, and say where it stands."""
        root = self.repo.root
        if self._commit("MERGE_HEAD") is not None:
            git(root, "merge", "--abort", check=False)
        now = self._commit(_branch_ref(preview.base))
        head = f"git could not merge {preview.branch} into {preview.base} ({reason})"
        if now == preview.base_tip and self._commit("MERGE_HEAD") is None:
            git(root, "update-ref", "-d", ref, preview.base_tip, check=False)
            return f"{head}: {preview.base} is as it was; fix that and try again."
        return (
            f"{head}: {preview.base} was kept at {ref}, and `git -C {_q(root)} reset --keep "
            f"{ref}` puts it back."
        )


# -- git plumbing helpers ---------------------------------------------------------------------


def _run(cwd: Path, *args: str, doing: str, env: dict[str, str] | None = None) -> str:
    """git, with any failure turned into one sentence for the user instead of a traceback.

    git reads every registered worktree's files when it lists or adds one, and a worktree
    that another `git worktree add` is halfway through creating (corral makes two at a time;
    an agent may make its own) briefly has an empty `commondir`: git then fails with "failed
    to read .git/worktrees/<other>/commondir" before doing anything, so it is asked again a
    moment later.
    """
    if not cwd.is_dir():
        raise AgentError(f"{cwd} does not exist: git could not {doing} there.")
    for attempt in range(HALF_MADE_ATTEMPTS):
        result = git(cwd, *args, env=env, check=False)
        if result.returncode == 0:
            return result.stdout
        if not _HALF_MADE.search(result.stderr) or attempt == HALF_MADE_ATTEMPTS - 1:
            break
        time.sleep(0.05 * (attempt + 1))
    raise AgentError(f"git could not {doing} ({_reason(result)}): fix that and try again.")


def _reason(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    for line in lines:
        for prefix in ("fatal: ", "error: "):
            if line.startswith(prefix):
                return line.removeprefix(prefix)
    return lines[0] if lines else f"exit status {result.returncode}"


@contextmanager
def _scratch(git_dir: Path) -> Iterator[Path]:
    """A private folder inside the git dir for temporary index files, removed afterwards."""
    try:
        folder = Path(tempfile.mkdtemp(prefix="corral-snapshot-", dir=git_dir))
    except OSError as error:
        raise AgentError(_cannot_write(git_dir, error)) from error
    try:
        yield folder
    except OSError as error:
        raise AgentError(_cannot_write(git_dir, error)) from error
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _cannot_write(folder: Path, error: OSError) -> str:
    """A full disk is the usual cause, and freeing space the usual fix."""
    return (
        f"corral could not write a temporary index in {folder} ({error.strerror}): "
        "free some space on that disk and try again."
    )


def _index_tree(checkout: _Checkout, scratch: Path) -> str:
    """The staged state, written from a copy: write-tree on the real index would rewrite it."""
    copy = scratch / "staged"
    env = {"GIT_INDEX_FILE": str(copy)}
    if checkout.index.exists():
        shutil.copyfile(checkout.index, copy)
    else:
        _run(checkout.top, "read-tree", checkout.head, env=env, doing="read HEAD")
    unmerged = _run(checkout.top, "ls-files", "-u", "-z", env=env, doing="read the index")
    paths = sorted({item.split("\t", 1)[1] for item in unmerged.split("\0") if "\t" in item})
    if paths:
        # A tree cannot hold conflict stages; record those paths as they are in the folder.
        args = ("update-index", "--add", "--remove", "--", *paths)
        _run(checkout.top, *args, env=env, doing="record conflicted files")
    return _run(checkout.top, "write-tree", env=env, doing="save the staged state").strip()


def _work_tree(checkout: _Checkout, scratch: Path) -> str:
    """Every file in the folder that git does not ignore, as a tree, via a throwaway index."""
    env = {"GIT_INDEX_FILE": str(scratch / "work")}
    _run(checkout.top, "read-tree", checkout.head, env=env, doing="read HEAD")
    _run(checkout.top, "add", "-A", env=env, doing=f"save the files of {checkout.top}")
    return _run(checkout.top, "write-tree", env=env, doing="save the working files").strip()


def _files_tree(checkout: _Checkout, scratch: Path) -> str:
    """Like `_work_tree`, but from a copy of the agent's index, whose file stats spare git from
    hashing every unchanged file again: this runs on every look, not once per shelve.

    `copy2` keeps the index's own time, which git needs to spot files changed in the same
    instant the index was written.
    """
    copy = scratch / "files"
    env = {"GIT_INDEX_FILE": str(copy)}
    if checkout.index.exists():
        shutil.copy2(checkout.index, copy)
    else:
        _run(checkout.top, "read-tree", checkout.head, env=env, doing="read HEAD")
    _run(checkout.top, "add", "-A", env=env, doing=f"read the files of {checkout.top}")
    return _run(checkout.top, "write-tree", env=env, doing="save the working files").strip()


def _changed_paths(cwd: Path, head: str, trees: tuple[str, ...]) -> int:
    paths: set[str] = set()
    for tree in trees:
        args = ("diff-tree", "-r", "-z", "--name-only", "--no-renames", head, tree)
        out = _run(cwd, *args, doing="count changed files")
        paths.update(item for item in out.split("\0") if item)
    return len(paths)


def _parse_worktrees(out: str) -> list[WorktreeEntry]:
    entries: list[WorktreeEntry] = []
    fields: dict[str, str] = {}
    for token in out.split("\0"):
        if token:
            key, _, value = token.partition(" ")
            fields[key] = value
            continue
        if "worktree" in fields:
            entries.append(_entry(fields))
        fields = {}
    return entries


def _entry(fields: dict[str, str]) -> WorktreeEntry:
    branch = fields.get("branch")
    return WorktreeEntry(
        path=_absolute(Path(fields["worktree"])),
        branch=branch.removeprefix("refs/heads/") if branch else None,
        head=fields.get("HEAD") or None,
        prunable="prunable" in fields,
        locked="locked" in fields,
    )


# -- small pure helpers -----------------------------------------------------------------------


def _absolute(path: Path) -> Path:
    return path.expanduser().resolve()


def _branch_ref(branch: str) -> str:
    return branch if branch.startswith("refs/") else f"refs/heads/{branch}"


def _by_branch(entries: Sequence[WorktreeEntry], branch: str) -> WorktreeEntry | None:
    short = branch.removeprefix("refs/heads/")
    return next((entry for entry in entries if entry.branch == short), None)


def _by_path(entries: Sequence[WorktreeEntry], path: Path) -> WorktreeEntry | None:
    return next((entry for entry in entries if entry.path == path), None)


def _is_empty_dir(path: Path) -> bool:
    return path.is_dir() and not any(path.iterdir())


def _short(entry: WorktreeEntry) -> str:
    return (entry.head or "")[:12] or "(unknown)"


def _q(path: Path) -> str:
    return shlex.quote(str(path))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _missing_base(base: str, current: str | None) -> str:
    suggestion = current or "main"
    return (
        f"the base {base!r} is not a branch or commit of this repository: set "
        f'`base = "{suggestion}"` (or another existing branch) in corral.toml.'
    )


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


def _replaces(message: str, ref: str, previous: str) -> str:
    return (
        f"{message}\n\n{ref} already held the snapshot {previous}; it is kept as the second "
        f"parent of this snapshot's index commit ({ref}^2^2)."
    )


def _restore_commands(path: Path, ref: str) -> tuple[Command, ...]:
    """Files, then staged state, exactly as saved; `stash apply` would stage untracked files."""
    restore = ("git", "-C", str(path), "restore", "--source")
    return (
        (*restore, ref, "--worktree", "--", "."),
        (*restore, f"{ref}^2", "--staged", "--", "."),
    )


def _removal_message(
    path: Path,
    entry: WorktreeEntry | None,
    snapshot: Snapshot | None,
    head_ref: str | None,
    branch_line: str,
    recovery: tuple[Command, ...],
) -> str:
    if entry is None:
        lines = [f"There was no worktree at {path}."]
    elif entry.prunable:
        lines = [f"Forgot the worktree {path}: its folder was already gone."]
    else:
        lines = [f"Removed the worktree {path}."]
    if snapshot is not None:
        lines.append(
            f"Uncommitted work ({_count(snapshot.files, 'file')}) is saved at {snapshot.ref} "
            f"(commit {snapshot.commit[:12]})."
        )
    elif entry is not None and not entry.prunable:
        lines.append("It had no uncommitted work.")
    if head_ref is not None:
        lines.append(f"Its detached HEAD is kept at {head_ref}.")
    lines.append(branch_line)
    if recovery:
        lines.append("To get it back:")
        lines.extend("  " + shlex.join(command) for command in recovery)
    return "\n".join(lines)


# -- merge helpers ----------------------------------------------------------------------------


def _not_a_base_branch(base: str, current: str | None) -> str:
    suggestion = current or "main"
    return (
        f"the base {base!r} is not a branch of this repository, so nothing can be merged into "
        f'it: set `base = "{suggestion}"` (or another existing branch) in corral.toml.'
    )


def _merge_base_of(root: Path, a: str, b: str) -> str | None:
    result = git(root, "merge-base", a, b, check=False)
    if result.returncode == 1:
        return None
    if result.returncode != 0:
        raise AgentError(f"git could not find where {b[:12]} left {a[:12]} ({_reason(result)}).")
    return result.stdout.strip() or None


def _rev_count(root: Path, include: str, exclude: str) -> int:
    out = _run(root, "rev-list", "--count", include, f"^{exclude}", doing="count commits")
    return int(out.strip())


def _commit_lines(root: Path, tip: str, base_tip: str) -> tuple[tuple[str, str], ...]:
    """The newest commits the merge would bring, as (commit, subject)."""
    args = ("rev-list", f"--max-count={PREVIEW_COMMITS}", "--format=%H%x09%s", "--no-commit-header")
    out = _run(root, *args, tip, f"^{base_tip}", doing="list the commits to merge")
    lines = (line.partition("\t") for line in out.splitlines() if line)
    return tuple((commit, subject) for commit, _, subject in lines)


def _file_changes(root: Path, merge_base: str, tip: str) -> tuple[FileChange, ...]:
    args = ("diff-tree", "-r", "-z", "--numstat", "--no-renames", merge_base, tip)
    out = _run(root, *args, doing="list the changed files")
    changes = []
    for item in out.split("\0"):
        if item.count("\t") < 2:
            continue
        added, removed, path = item.split("\t", 2)
        changes.append(
            FileChange(
                path=path,
                added=int(added) if added.isdigit() else None,
                removed=int(removed) if removed.isdigit() else None,
            )
        )
    return tuple(changes)


def _status_paths(cwd: Path, untracked: str) -> list[str]:
    """Paths `git status` reports, read without refreshing the checkout's index."""
    args = ("status", "--porcelain=v1", "-z", "--no-renames", f"--untracked-files={untracked}")
    out = _run(cwd, *args, doing=f"read the status of {cwd}")
    return [entry[3:] for entry in out.split("\0") if len(entry) > 3]


def _uncommitted(worktree: Path) -> int:
    """Changed, staged, deleted and untracked files: what a merge of the branch leaves behind."""
    return len(set(_status_paths(worktree, "all")))


def _tracked_changes(root: Path) -> list[str]:
    return sorted(set(_status_paths(root, "no")))


def _in_the_way(root: Path, base_tip: str, merged: str) -> list[str]:
    """Files on disk that git does not track where the merge would write one.

    git refuses to overwrite untracked files but not ignored ones; both are refused here, since
    an ignored file can still be the only copy of something.
    """
    args = ("diff-tree", "-r", "-z", "--name-status", "--no-renames", base_tip, merged)
    fields = _run(root, *args, doing="list what the merge writes").split("\0")
    changes = list(zip(fields[0::2], fields[1::2], strict=False))
    gone = {path for status, path in changes if status == "D"}
    found: list[str] = []
    for status, path in changes:
        if status != "A":
            continue
        if os.path.lexists(root / path):
            found.append(path)
            continue
        for parent in PurePosixPath(path).parents[:-1]:
            where = root / parent
            is_file = where.is_symlink() or (where.exists() and not where.is_dir())
            if is_file and str(parent) not in gone:
                found.append(str(parent))
                break
    return sorted(set(found))


def _listing(paths: Sequence[str], shown: int = 3) -> str:
    if len(paths) <= shown:
        return ", ".join(paths)
    return f"{', '.join(paths[:shown])} and {len(paths) - shown} more"


def _numbers(change: FileChange) -> str:
    if change.added is None or change.removed is None:
        return "binary"
    return f"+{change.added} -{change.removed}"


def _merged_message(
    preview: MergePreview, after: str, fast_forward: bool, ref: str, undo: tuple[Command, ...]
) -> str:
    branch, base = preview.branch, preview.base
    size = f"{_count(preview.ahead, 'commit')}, {_count(len(preview.files), 'file')}"
    if fast_forward:
        lines = [
            f"Merged {branch} into {base}: a fast-forward from {preview.base_tip[:12]} to "
            f"{after[:12]} ({size})."
        ]
    else:
        lines = [f"Merged {branch} into {base} in the merge commit {after[:12]} ({size})."]
    lines.append(f"{base} as it was before is kept at {ref} ({preview.base_tip[:12]}).")
    lines.append(f"To undo it while {base} has nothing newer: {shlex.join(undo[0])}")
    if len(undo) > 1:
        lines.append(f"Or, once others have it, revert the merge: {shlex.join(undo[1])}")
    if preview.uncommitted:
        lines.append(
            f"{preview.agent}'s {_count(preview.uncommitted, 'uncommitted file')} are not in "
            f"the merge: they stay in {preview.worktree} until {preview.agent} commits them."
        )
    return "\n".join(lines)
