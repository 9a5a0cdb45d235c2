"""Git worktrees and branches of agents: create or reuse, list, snapshot, remove.

An agent's branch and worktree may hold the only copy of hours of work, so this module reuses
whatever already exists instead of resetting it, and anything that discards files first saves
them under a ref and says where. Git runs through `sessions.repo.git`, without optional locks,
and a snapshot only reads the agent's index, so it can be taken while the agent works.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sessions.errors import AgentError
from sessions.repo import Repo, git

TRASH_PREFIX = "refs/corral/trash"
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
        if created_branch:
            start = self._commit(base)
            if start is None:
                raise AgentError(_missing_base(base, self.repo.current_branch()))
            where = ["-b", branch, str(path), start]
        else:
            where = [str(path), branch]
        add = ("worktree", "add", "--quiet", *where)
        _run(self.repo.root, *add, doing=f"create the worktree {path}")
        return Ensured(path, branch, True, created_branch, note)

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


# -- git plumbing helpers ---------------------------------------------------------------------


def _run(cwd: Path, *args: str, doing: str, env: dict[str, str] | None = None) -> str:
    """git, with any failure turned into one sentence for the user instead of a traceback."""
    if not cwd.is_dir():
        raise AgentError(f"{cwd} does not exist: git could not {doing} there.")
    result = git(cwd, *args, env=env, check=False)
    if result.returncode != 0:
        raise AgentError(f"git could not {doing} ({_reason(result)}): fix that and try again.")
    return result.stdout


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
    folder = Path(tempfile.mkdtemp(prefix="corral-snapshot-", dir=git_dir))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


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
