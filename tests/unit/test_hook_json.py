"""The hook's JSON reads and writes exactly what `json` does, without importing it."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessions.agents import hook_json

ROOT = Path(__file__).resolve().parents[2]

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(values)
def test_what_json_writes_and_reads(value: Any) -> None:
    for ascii_only in (True, False):
        for separators in ((",", ":"), (", ", ": ")):
            text = json.dumps(value, ensure_ascii=ascii_only, separators=separators)
            ours = hook_json.dumps(value, ensure_ascii=ascii_only, separators=separators)
            assert ours == text
            assert hook_json.loads(text) == json.loads(text)
            assert hook_json.loads(f" \n{text}\t\r\n".encode()) == json.loads(text)


def test_the_constants_json_allows() -> None:
    read = hook_json.loads("[NaN, Infinity, -Infinity]")
    assert math.isnan(read[0]) and read[1:] == [math.inf, -math.inf]
    assert hook_json.dumps([math.inf]) == json.dumps([math.inf])


@pytest.mark.parametrize(
    "text", ["", "   ", "{", "[1,]", "{} x", "nul", '{"a":}', "'a'", "[1 2]", '{"a" 1}']
)
def test_what_json_refuses_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(ValueError):
        hook_json.loads(text)


def test_what_cannot_be_written_is_refused_and_the_next_value_is_written() -> None:
    looped: list[Any] = []
    looped.append(looped)
    with pytest.raises(ValueError):
        hook_json.dumps({"a": looped})
    with pytest.raises(TypeError):
        hook_json.dumps({"a": [1, object()]})
    assert hook_json.dumps({"a": [1, 2]}) == '{"a": [1, 2]}'


@pytest.mark.parametrize(
    "payload",
    [
        {"hook_event_name": "Stop"},
        {"hook_event_name": "PostToolUse", "tool_name": "Edit", "tool_input": {"file_path": "a"}},
    ],
)
def test_the_hook_entry_loads_neither_json_nor_typing(
    payload: dict[str, Any], tmp_path: Path
) -> None:
    """The point of it: an event through the hook entry, a tool call's included, imports none
    of `json`, `re` or `typing`, which cost most of a call's time."""
    probe = (
        "import sys, io; sys.path.insert(0, sys.argv[1]); "
        "sys.stdin = io.TextIOWrapper(io.BytesIO(sys.argv[2].encode())); "
        "from sessions.hook import main; main(['--kind', 'claude']); "
        "print(sorted(m for m in ('json', 're', 'typing') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", probe, str(ROOT), json.dumps(payload)],
        capture_output=True,
        text=True,
        check=True,
        env={"CORRAL_HOME": str(tmp_path), "CORRAL_AGENT": "probe"},
    )
    assert result.stdout.strip() == "[]"
    (line,) = (tmp_path / "events" / "probe.jsonl").read_text().splitlines()
    assert json.loads(line)["event"] == payload["hook_event_name"]
