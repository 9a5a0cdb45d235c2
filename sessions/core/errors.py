"""Errors a user can cause, each carrying one sentence that says what is wrong and what to do.

The command line prints the message and exits non-zero instead of showing a traceback, so every
message must stand on its own.
"""


class CorralError(Exception):
    """A problem the user can fix; `str(error)` is the sentence to show them."""


class ConfigError(CorralError):
    """corral.toml or the user config is wrong; the message names file, line and key."""

    def __init__(self, path: str, line: int | None, key: str | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.key = key
        self.problem = problem
        where = path if line is None else f"{path}:{line}"
        subject = f"{where}: {key}: " if key else f"{where}: "
        super().__init__(subject + problem)


class NotARepoError(CorralError):
    """The folder is not inside a git repository, or the repository has no commit."""


class TmuxError(CorralError):
    """tmux is missing, too old, or refused a command."""


class AgentError(CorralError):
    """An action on one agent cannot be done in the agent's current situation."""


class JournalError(CorralError):
    """The journal cannot take an event (a full disk, a folder not writable): the action that
    wanted to record it must not go on as if it had."""


class LockError(CorralError):
    """A lock cannot be listed or released as asked; the message says what to do instead."""
