"""Gemini CLI's side of the hook: Claude Code's payload shape on stdin, its own tool names, and
JSON on stdout after every call (the CLI wants some; `{}` asks nothing of it)."""

from sessions.agents.hook_part import HookPart

PART = HookPart(
    stdin=True,
    tools={
        "replace": "edit",
        "write_file": "edit",
        "read_file": "read",
        "read_many_files": "read",
        "glob": "read",
        "grep_search": "read",
        "list_directory": "read",
        "run_shell_command": "exec",
    },
    tool_events=True,
    answer="{}",
    spools=True,
)
