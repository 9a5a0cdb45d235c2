"""Tool calls from every kind land in the same four classes, with their paths."""

from __future__ import annotations

import pytest

from sessions.agents.tools import classify


@pytest.mark.parametrize(
    ("kind", "tool", "arguments", "cls", "paths"),
    [
        ("claude", "Edit", {"file_path": "/w/a.py", "old_string": "x"}, "edit", ("/w/a.py",)),
        ("claude", "MultiEdit", {"file_path": "/w/a.py", "edits": []}, "edit", ("/w/a.py",)),
        ("claude", "NotebookEdit", {"notebook_path": "/w/n.ipynb"}, "edit", ("/w/n.ipynb",)),
        ("claude", "Read", {"file_path": "/w/a.py", "offset": 1}, "read", ("/w/a.py",)),
        ("claude", "Grep", {"pattern": "x", "path": "/w/src"}, "read", ("/w/src",)),
        ("claude", "Bash", {"command": "cat a.py"}, "exec", ()),
        ("claude", "Task", {"prompt": "look"}, "delegate", ()),
        ("claude", "mcp__x__y", {}, "other", ()),
        ("claude", "SomethingNew", {}, "other", ()),
        ("codex", "shell", {"command": ["bash", "-lc", "sed -n 1,20p a.py"]}, "read", ()),
        ("codex", "shell", {"command": ["bash", "-lc", "cat a | tee b"]}, "exec", ()),
        ("codex", "shell", {"command": ["sed", "-i", "s/a/b/", "a.py"]}, "exec", ()),
        ("codex", "exec_command", {"cmd": "pytest -q"}, "exec", ()),
        (
            "codex",
            "apply_patch",
            {"input": "*** Begin Patch\n*** Update File: a.py\n*** Move to: b.py\n"},
            "edit",
            ("a.py", "b.py"),
        ),
        ("gemini", "replace", {"file_path": "/w/a.py"}, "edit", ("/w/a.py",)),
        ("gemini", "read_many_files", {"paths": ["a", "b"]}, "read", ("a", "b")),
        ("gemini", "run_shell_command", {"command": "ls"}, "exec", ()),
        ("sim", "Write", {"file_path": "notes/x.md"}, "edit", ("notes/x.md",)),
    ],
)
def test_classify(
    kind: str, tool: str, arguments: dict[str, object], cls: str, paths: tuple[str, ...]
) -> None:
    call = classify(kind, tool, arguments)
    assert call.cls == cls
    assert call.paths == paths


def test_unbalanced_quotes_never_raise() -> None:
    assert classify("codex", "shell", {"command": "cat 'a"}).cls == "exec"


def test_a_tool_call_is_a_named_tuple_without_typing() -> None:
    """The hook entry's ToolCall is written out by hand (no `typing` on every tool call); it
    must behave as the named tuple the rest of corral reads."""
    import pickle

    call = classify("claude", "Edit", {"file_path": "src/app.py"})
    assert (call.tool, call.cls, call.paths, call.command) == (
        "Edit",
        "edit",
        ("src/app.py",),
        None,
    )
    assert call == ("Edit", "edit", ("src/app.py",), None)
    assert pickle.loads(pickle.dumps(call)) == call
    assert type(pickle.loads(pickle.dumps(call))) is type(call)
    assert repr(call) == "ToolCall(tool='Edit', cls='edit', paths=('src/app.py',), command=None)"
