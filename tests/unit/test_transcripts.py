"""Transcripts of every kind read incrementally into the same facts, whatever the file does."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessions.agents.transcripts import (
    Tail,
    Transcript,
    Update,
    checkpoint_path,
    find_transcript,
    load_checkpoint,
    save_checkpoint,
    timestamp,
)
from sessions.core.prices import DEFAULT_PRICES
from sessions.core.usage import Tokens

DATA = Path(__file__).resolve().parents[1] / "data"
SAMPLES = DATA / "transcripts"
RECORDED = DATA / "claude" / "transcript.jsonl"


def copy(tmp_path: Path, name: str, as_name: str | None = None) -> Path:
    target = tmp_path / (as_name or name)
    shutil.copyfile(SAMPLES / name, target)
    return target


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as handle:
        handle.write(data)


def line(record: object) -> bytes:
    return json.dumps(record).encode() + b"\n"


def names(update: Update) -> list[str]:
    return [tool.name for tool in update.tool_uses]


# --- Claude -----------------------------------------------------------------------------------


def test_claude_session_totals_tools_and_identity(tmp_path: Path) -> None:
    update = Transcript("claude", [copy(tmp_path, "claude-session.jsonl")]).read()
    state = update.state
    assert state.usage.tokens == Tokens(input=6, output=590, cache_read=73820, cache_write=7170)
    assert state.responses == 4
    assert state.usage.models == ("claude-opus-5",)
    assert state.session_id == "5f0c3a9e-7b1d-4c2e-9a8f-3d6e1b2c4a10"
    assert state.cwd == "/WORKTREE"
    assert state.model == "claude-opus-5"
    assert state.tail is Tail.ASSISTANT
    assert not state.awaiting_tool and not state.interrupted
    assert (state.lines, state.garbage, state.unknown, state.restarts) == (12, 0, 0, 0)
    assert [(t.name, t.call.cls, t.call.paths, t.call.command) for t in update.tool_uses] == [
        ("Read", "read", ("/WORKTREE/src/cli.py",), None),
        ("Edit", "edit", ("/WORKTREE/src/cli.py",), None),
        ("Bash", "exec", (), "pytest -q"),
    ]
    assert update.tool_uses[0].id == "toolu_01Read"
    assert update.tool_uses[0].at == timestamp("2026-11-20T09:00:04.400Z")
    assert state.last_assistant_at == timestamp("2026-11-20T09:00:18.000Z")
    assert state.last_user_at == timestamp("2026-11-20T09:00:00.000Z")  # results are tool lines
    assert state.last_tool_at == timestamp("2026-11-20T09:00:15.500Z")
    assert state.last_at == state.last_assistant_at


def test_the_latest_response_fills_the_context_window(tmp_path: Path) -> None:
    state = Transcript("claude", [copy(tmp_path, "claude-session.jsonl")]).read().state
    assert state.last_response is not None
    assert state.last_response.tokens.prompt == 1 + 650 + 20520
    assert state.window == 1_000_000
    assert state.context_fill == pytest.approx(21171 / 1_000_000)


def test_a_response_written_as_several_lines_counts_once_with_its_largest_copy(
    tmp_path: Path,
) -> None:
    source = (SAMPLES / "claude-session.jsonl").read_bytes().splitlines(keepends=True)
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"".join(source[:4]))  # the prompt and two copies with output_tokens 8
    transcript = Transcript("claude", [path])
    first = transcript.read()
    assert [r.tokens.output for r in first.responses] == [8]
    append(path, source[4])  # the third copy says 96
    grown = transcript.read()
    assert [(r.id, r.tokens.output) for r in grown.responses] == [("msg_01AbCdEf", 96)]
    assert grown.state.responses == 1
    assert grown.state.usage.tokens == Tokens(
        input=3, output=96, cache_read=14000, cache_write=5200
    )
    append(path, source[3])  # a smaller copy again changes nothing
    again = transcript.read()
    assert again.responses == ()
    assert again.state.usage == grown.state.usage


def test_a_resumed_session_repeating_old_messages_counts_them_once(tmp_path: Path) -> None:
    first = copy(tmp_path, "claude-session.jsonl")
    second = copy(tmp_path, "claude-resumed.jsonl")
    update = Transcript("claude", [first, second]).read()
    state = update.state
    assert state.responses == 6
    assert state.usage.tokens == Tokens(input=10, output=760, cache_read=75920, cache_write=9570)
    assert names(update) == ["Read", "Edit", "Bash", "Write"]
    assert state.session_id == "5f0c3a9e-7b1d-4c2e-9a8f-3d6e1b2c4a11"
    reversed_order = Transcript("claude", [second, first]).read().state
    assert reversed_order.usage == state.usage


def test_a_resumed_file_found_later_adds_only_what_is_new(tmp_path: Path) -> None:
    transcript = Transcript("claude", [copy(tmp_path, "claude-session.jsonl")])
    transcript.read()
    transcript.add(copy(tmp_path, "claude-resumed.jsonl"))
    transcript.add(tmp_path / "claude-resumed.jsonl")  # adding twice is harmless
    update = transcript.read()
    assert [r.id for r in update.responses] == ["msg_01EfGhIj", "msg_01FgHiJk"]
    assert names(update) == ["Write"]
    assert len(transcript.paths) == 2


def test_an_interrupt_marker_ends_the_turn(tmp_path: Path) -> None:
    state = Transcript("claude", [copy(tmp_path, "claude-interrupted.jsonl")]).read().state
    assert state.tail is Tail.INTERRUPTED
    assert state.interrupted
    assert state.open_tools == ()


def test_an_unanswered_tool_call_is_the_last_thing(tmp_path: Path) -> None:
    path = copy(tmp_path, "claude-waiting.jsonl")
    state = Transcript("claude", [path]).read().state
    assert state.tail is Tail.TOOL_USE
    assert state.awaiting_tool
    assert state.open_tools == ("toolu_01Ren",)
    assert state.usage.tokens.output == 88
    # The slash command and its caveat were typed, but were not prompts for the model.
    assert state.last_user_at == timestamp("2026-11-20T17:00:05.000Z")


def test_a_slash_command_is_local(tmp_path: Path) -> None:
    lines = (SAMPLES / "claude-waiting.jsonl").read_bytes().splitlines(keepends=True)
    path = tmp_path / "t.jsonl"
    path.write_bytes(lines[0])
    assert Transcript("claude", [path]).read().state.tail is Tail.LOCAL


def test_subagent_lines_count_tokens_and_tools_but_not_the_main_state(tmp_path: Path) -> None:
    lines = (SAMPLES / "claude-waiting.jsonl").read_bytes().splitlines(keepends=True)
    sidechain = {
        "type": "assistant",
        "isSidechain": True,
        "timestamp": "2026-11-20T17:00:09.000Z",
        "message": {
            "id": "msg_sub",
            "model": "claude-haiku-4-5-20251001",
            "content": [{"type": "tool_use", "id": "toolu_sub", "name": "Grep", "input": {}}],
            "usage": {"input_tokens": 10, "output_tokens": 5},
        },
    }
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"".join(lines) + line(sidechain))
    update = Transcript("claude", [path]).read()
    assert names(update) == ["Edit", "Grep"]
    assert update.state.usage.models == ("claude-haiku-4-5-20251001", "claude-opus-5")
    assert update.state.model == "claude-opus-5"
    assert update.state.open_tools == ("toolu_01Ren",)


def test_garbage_is_skipped_and_counted_never_raised(tmp_path: Path) -> None:
    good = (SAMPLES / "claude-session.jsonl").read_bytes().splitlines(keepends=True)
    path = tmp_path / "t.jsonl"
    path.write_bytes(
        b"not json\n"
        + b"[1, 2]\n"
        + b'{"type": "assistant", "message": "not an object"}\n'
        + line(
            {
                "type": "assistant",
                "message": {"id": "m", "model": "x", "usage": {"input_tokens": "7"}},
            }
        )
        + b"\xff\xfe\x00 binary\n"
        + b"\n   \n"
        + b'{"type": "brand-new-kind"}\n'
        + b"[" * 100_000
        + b"\n"
        + b"".join(good[1:3])
    )
    state = Transcript("claude", [path]).read().state
    assert state.garbage == 4
    assert state.unknown == 3
    assert state.lines == 5
    assert state.responses == 1


def test_a_half_written_last_line_waits_for_its_end(tmp_path: Path) -> None:
    whole = (SAMPLES / "claude-waiting.jsonl").read_bytes()
    cut = whole.rindex(b"toolu_01Ren")
    path = tmp_path / "t.jsonl"
    path.write_bytes(whole[:cut])
    transcript = Transcript("claude", [path])
    before = transcript.read()
    assert before.tool_uses == ()
    assert before.state.tail is Tail.ASSISTANT
    append(path, whole[cut:])
    after = transcript.read()
    assert names(after) == ["Edit"]
    assert after.state.tail is Tail.TOOL_USE
    assert after.state.garbage == 0


def test_a_truncated_file_is_read_again_and_says_so(tmp_path: Path) -> None:
    path = copy(tmp_path, "claude-session.jsonl")
    transcript = Transcript("claude", [path])
    whole = transcript.read().state
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:3]))
    update = transcript.read()
    assert update.restarted and "truncated" in update.restarted[0]
    assert update.state.restarts == 1
    assert update.state.usage == whole.usage  # nothing counted twice
    assert transcript.read().restarted == ()


def test_a_replaced_file_is_read_again_and_says_so(tmp_path: Path) -> None:
    path = copy(tmp_path, "claude-session.jsonl")
    transcript = Transcript("claude", [path])
    transcript.read()
    keep = tmp_path / "keep"
    os.link(path, keep)  # hold the old inode so the new file cannot reuse its number
    replacement = tmp_path / "new.jsonl"
    shutil.copyfile(SAMPLES / "claude-resumed.jsonl", replacement)
    os.replace(replacement, path)
    update = transcript.read()
    assert update.restarted and "replaced" in update.restarted[0]
    assert names(update) == ["Write"]
    assert update.state.responses == 6


def test_a_file_rewritten_in_place_past_the_offset_is_read_again(tmp_path: Path) -> None:
    path = copy(tmp_path, "claude-interrupted.jsonl")
    transcript = Transcript("claude", [path])
    transcript.read()
    with path.open("r+b") as handle:  # same inode, longer, different first bytes
        handle.write((SAMPLES / "claude-session.jsonl").read_bytes())
    update = transcript.read()
    assert update.restarted and "rewritten" in update.restarted[0]
    assert update.state.responses == 1 + 4


def test_a_missing_file_reads_as_empty_until_it_appears(tmp_path: Path) -> None:
    path = tmp_path / "later.jsonl"
    transcript = Transcript("claude", [path])
    empty = transcript.read()
    assert empty.state.lines == 0 and empty.state.tail is Tail.NONE
    shutil.copyfile(SAMPLES / "claude-interrupted.jsonl", path)
    assert transcript.read().state.tail is Tail.INTERRUPTED


def test_the_recorded_claude_transcript_costs_what_claude_code_says() -> None:
    if not RECORDED.exists():
        pytest.skip("no recorded Claude Code transcript under tests/data/claude")
    records = [json.loads(raw) for raw in RECORDED.read_text().splitlines()]
    states = [r for r in records if r.get("type") == "cost-state"]
    update = Transcript("claude", [RECORDED]).read()
    state = update.state
    assert (state.garbage, state.unknown) == (0, 0)
    assert [(t.name, t.call.cls) for t in update.tool_uses] == [("Write", "edit")]
    assert state.tail is Tail.ASSISTANT
    model_usage = states[-1]["modelUsage"]
    assert state.usage.models == tuple(model_usage)
    tokens = state.usage.tokens
    usage = next(iter(model_usage.values()))
    assert tokens.input == usage["inputTokens"]
    assert tokens.output == usage["outputTokens"]
    assert tokens.cache_read == usage["cacheReadInputTokens"]
    assert tokens.cache_write == usage["cacheCreationInputTokens"]
    assert DEFAULT_PRICES.cost(state.usage).usd == pytest.approx(states[-1]["totalCostUSD"])


# --- Codex ------------------------------------------------------------------------------------


def test_codex_rollout_tokens_tools_and_window(tmp_path: Path) -> None:
    update = Transcript("codex", [copy(tmp_path, "codex-rollout.jsonl")]).read()
    state = update.state
    assert state.usage.tokens == Tokens(input=6700, output=700, cache_read=19800, reasoning=300)
    assert state.responses == 3  # a token_count without info and a repeated one add nothing
    assert state.model == "gpt-5.3-codex"
    assert state.usage.models == ("gpt-5.3-codex",)
    assert state.session_id == "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a50"
    assert state.cwd == "/WORKTREE"
    assert state.reported_window == 272_000
    assert state.context_fill == pytest.approx(9500 / 272_000)
    assert [(t.name, t.call.cls, t.call.paths, t.call.command) for t in update.tool_uses] == [
        ("shell", "read", (), "bash -lc 'sed -n 1,80p tests/test_cli.py'"),
        ("apply_patch", "edit", ("src/cli.py",), None),
        ("local_shell_call", "exec", (), "pytest -q"),
        ("exec_command", "exec", (), "git status --short"),
    ]
    assert [t.id for t in update.tool_uses] == ["call_A1", "call_A2", "call_A3", "call_A4"]
    assert state.tail is Tail.ASSISTANT
    assert state.last_user_at == timestamp("2026-11-20T10:00:05.002Z")
    assert (state.garbage, state.unknown) == (0, 0)


def test_codex_turn_aborted_is_an_interrupt(tmp_path: Path) -> None:
    path = copy(tmp_path, "codex-interrupted.jsonl")
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))
    transcript = Transcript("codex", [path])
    running = transcript.read().state
    assert running.tail is Tail.TOOL_USE and running.open_tools == ("call_B1",)
    append(path, lines[-1])
    state = transcript.read().state
    assert state.tail is Tail.INTERRUPTED
    assert state.reported_window is None
    assert state.window == 1_050_000  # from the model table for gpt-5.6-terra


def test_codex_older_rollouts_without_the_wrapper(tmp_path: Path) -> None:
    path = tmp_path / "old.jsonl"
    path.write_bytes(
        line({"id": "old-session", "timestamp": "2025-06-01T10:00:00Z", "instructions": None})
        + line({"record_type": "state"})
        + line({"type": "function_call", "name": "shell", "arguments": "{bad", "call_id": "c"})
        + line({"type": "function_call_output", "call_id": "c", "output": "ok"})
    )
    update = Transcript("codex", [path]).read()
    assert update.state.session_id == "old-session"
    assert [(t.name, t.call.cls) for t in update.tool_uses] == [("shell", "exec")]
    assert update.state.tail is Tail.TOOL_RESULT
    assert update.state.unknown == 0


# --- Gemini -----------------------------------------------------------------------------------


GEMINI_TOKENS = Tokens(input=13200, output=405, cache_read=24300, reasoning=240)


def test_gemini_chat_counts_each_message_once_with_its_tokens(tmp_path: Path) -> None:
    update = Transcript("gemini", [copy(tmp_path, "gemini-session.jsonl")]).read()
    state = update.state
    assert state.usage.tokens == GEMINI_TOKENS
    assert state.responses == 3
    assert state.model == "gemini-3.1-pro-preview"
    assert state.session_id == "7c1e4d2a-9b3f-4e6d-8a1c-2f5e7d9b0c31"
    assert [(t.name, t.call.cls, t.call.paths) for t in update.tool_uses] == [
        ("list_directory", "read", ()),
        ("replace", "edit", ("/WORKTREE/README.md",)),
    ]
    assert state.tail is Tail.ASSISTANT
    assert (state.garbage, state.unknown) == (0, 0)


def test_gemini_tool_call_awaiting_approval_is_unanswered(tmp_path: Path) -> None:
    lines = (SAMPLES / "gemini-session.jsonl").read_bytes().splitlines(keepends=True)
    path = tmp_path / "chat.jsonl"
    path.write_bytes(b"".join(lines[:7]))
    transcript = Transcript("gemini", [path])
    waiting = transcript.read().state
    assert waiting.tail is Tail.TOOL_USE and waiting.open_tools == ("replace-2",)
    append(path, b"".join(lines[7:]))
    assert transcript.read().state.tail is Tail.ASSISTANT


def test_gemini_cancelled_tool_call_is_an_interrupt(tmp_path: Path) -> None:
    state = Transcript("gemini", [copy(tmp_path, "gemini-cancelled.jsonl")]).read().state
    assert state.tail is Tail.INTERRUPTED
    assert state.usage.tokens == Tokens(input=9000, output=70, reasoning=50)


def test_gemini_whole_file_chat_rewritten_in_place(tmp_path: Path) -> None:
    path = tmp_path / "session-2026-11-20T11-00-7c1e4d2a.json"
    transcript = Transcript("gemini", [path])
    found: list[str] = []
    tails = []
    for version in (1, 2, 3):
        shutil.copyfile(SAMPLES / f"gemini-session.{version}.json", path)
        update = transcript.read()
        found += names(update)
        tails.append(update.state.tail)
        assert transcript.read().tool_uses == ()  # unchanged: not read again
    state = transcript.state()
    assert found == ["list_directory", "replace"]
    assert tails == [Tail.TOOL_USE, Tail.TOOL_USE, Tail.ASSISTANT]
    assert state.usage.tokens == GEMINI_TOKENS
    assert state.responses == 3
    assert state.restarts == 0


def test_gemini_half_written_whole_file_is_counted_and_read_again_later(tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    whole = (SAMPLES / "gemini-session.3.json").read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    transcript = Transcript("gemini", [path])
    assert transcript.read().state.garbage == 1
    path.write_bytes(whole)
    assert transcript.read().state.usage.tokens == GEMINI_TOKENS


def test_gemini_metadata_updates_and_rewinds(tmp_path: Path) -> None:
    messages = json.loads((SAMPLES / "gemini-session.3.json").read_text())["messages"]
    path = tmp_path / "chat.jsonl"
    path.write_bytes(
        line({"sessionId": "s", "projectHash": "h"})
        + line({"$set": {"messages": messages, "lastUpdated": "2026-11-20T11:00:11.000Z"}})
        + line({"$rewindTo": "m3-gemini"})
        + line({"$set": "nonsense"})
    )
    state = Transcript("gemini", [path]).read().state
    assert state.usage.tokens == GEMINI_TOKENS  # a rewind does not refund tokens
    assert state.unknown == 1


# --- Reading in pieces, checkpoints, runs -----------------------------------------------------


CASES = [
    ("claude", ("claude-session.jsonl", "claude-resumed.jsonl")),
    ("claude", ("claude-waiting.jsonl",)),
    ("codex", ("codex-rollout.jsonl",)),
    ("codex", ("codex-interrupted.jsonl",)),
    ("gemini", ("gemini-session.jsonl",)),
]


def _chunks(data: bytes, cuts: list[int]) -> Iterator[bytes]:
    edges = [0, *sorted({c % (len(data) + 1) for c in cuts}), len(data)]
    for start, end in itertools.pairwise(edges):
        yield data[start:end]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=st.sampled_from(CASES),
    cuts=st.lists(st.integers(min_value=0, max_value=20_000), max_size=12),
    through_checkpoints=st.booleans(),
)
def test_any_split_into_appends_reads_the_same_as_the_whole(
    tmp_path_factory: pytest.TempPathFactory,
    case: tuple[str, tuple[str, ...]],
    cuts: list[int],
    through_checkpoints: bool,
) -> None:
    kind, files = case
    folder = tmp_path_factory.mktemp("split")
    whole = Transcript(kind, [SAMPLES / name for name in files]).read()
    targets = [folder / name for name in files]
    transcript = Transcript(kind, targets)
    tool_uses: list[object] = []
    responses: dict[str, Tokens] = {}
    for name, target in zip(files, targets, strict=True):
        target.touch()
        for piece in _chunks((SAMPLES / name).read_bytes(), cuts):
            append(target, piece)
            update = transcript.read()
            tool_uses += update.tool_uses
            responses.update({r.id: r.tokens for r in update.responses})
            if through_checkpoints:
                save_checkpoint(folder, "key", transcript)
                restored = load_checkpoint(folder, "key")
                assert restored is not None
                transcript = restored
    assert transcript.state() == whole.state
    assert tool_uses == list(whole.tool_uses)
    assert responses == {r.id: r.tokens for r in whole.responses}


def test_a_checkpoint_goes_on_where_the_last_process_stopped(tmp_path: Path) -> None:
    source = (SAMPLES / "claude-session.jsonl").read_bytes()
    path = tmp_path / "t.jsonl"
    path.write_bytes(source[:3000])  # ends inside a line
    cache = tmp_path / "cache"
    first = Transcript("claude", [path])
    before = first.read()
    saved = save_checkpoint(cache, str(path), first)
    assert saved == checkpoint_path(cache, str(path))
    assert saved.stat().st_mode & 0o077 == 0
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]
    append(path, source[3000:])
    restored = load_checkpoint(cache, str(path))
    assert restored is not None
    update = restored.read()
    assert update.state == Transcript("claude", [path]).read().state
    assert update.tool_uses and before.state.lines > 0
    assert names(before) + names(update) == ["Read", "Edit", "Bash"]


def test_a_damaged_or_foreign_checkpoint_means_starting_over(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    transcript = Transcript("claude", [copy(tmp_path, "claude-session.jsonl")])
    transcript.read()
    path = save_checkpoint(cache, "a", transcript)
    assert load_checkpoint(cache, "b") is None
    assert load_checkpoint(tmp_path / "nowhere", "a") is None
    data = json.loads(path.read_text())
    damages: list[Callable[[dict[str, Any]], object]] = [
        lambda d: d.update(format=99),
        lambda d: d["tally"]["book"].update(seen="%%%"),
        lambda d: d["files"][0].update(partial=None),
        lambda d: d["tally"].update(tail="sleeping"),
        lambda d: d.update(kind="aider"),
        lambda d: d.pop("tally"),
    ]
    for damage in damages:
        broken = json.loads(json.dumps(data))
        damage(broken)
        path.write_text(json.dumps(broken))
        assert load_checkpoint(cache, "a") is None
    path.write_text("{not json")
    assert load_checkpoint(cache, "a") is None


def test_runs_split_the_agent_total_by_start_time(tmp_path: Path) -> None:
    transcript = Transcript(
        "claude", [copy(tmp_path, "claude-session.jsonl"), copy(tmp_path, "claude-resumed.jsonl")]
    )
    start_1 = timestamp("2026-11-20T08:59:00Z")
    start_2 = timestamp("2026-11-20T13:59:00Z")
    assert start_1 is not None and start_2 is not None
    transcript.note_run(1, start_1)
    transcript.note_run(2, start_2)
    state = transcript.read().state
    runs = dict(state.runs)
    assert runs[1].tokens.output == 590
    assert runs[2].tokens.output == 170
    assert runs[1] + runs[2] == state.usage


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="aider"):
        Transcript("aider")


def test_timestamps() -> None:
    assert timestamp("2026-11-20T09:00:00Z") == timestamp("2026-11-20T09:00:00.000+00:00")
    assert timestamp(12.5) == 12.5
    assert timestamp("yesterday") is None
    assert timestamp(True) is None
    assert timestamp(None) is None


# --- Finding the transcript -------------------------------------------------------------------


def test_find_claude_by_session_id_under_any_slug(tmp_path: Path) -> None:
    session = "5f0c3a9e-7b1d-4c2e-9a8f-3d6e1b2c4a10"
    home = tmp_path / "config"
    target = home / "projects" / "-work-wt-alpha" / f"{session}.jsonl"
    target.parent.mkdir(parents=True)
    target.write_text("")
    (home / "projects" / "-other").mkdir()
    env = {"CLAUDE_CONFIG_DIR": str(home)}
    assert find_transcript("claude", session_id=session, env=env) == target
    assert find_transcript("claude", session_id=session, home=home) == target
    assert find_transcript("claude", session_id="*", env=env) is None
    assert find_transcript("claude", session_id="../x", env=env) is None
    assert find_transcript("claude", env=env) is None
    assert find_transcript("claude", session_id=session, env={"HOME": str(tmp_path)}) is None


def _rollout(home: Path, day: str, name: str, cwd: Path, mtime: float) -> Path:
    path = home / "sessions" / day / f"rollout-{name}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"type": "session_meta", "payload": {"id": name, "cwd": str(cwd)}}
    path.write_bytes(line(meta))
    os.utime(path, (mtime, mtime))
    return path


def test_find_codex_rollout_by_worktree(tmp_path: Path) -> None:
    home = tmp_path / "codex"
    worktree = tmp_path / "wt"
    worktree.mkdir()
    (tmp_path / "link").symlink_to(worktree)
    other = tmp_path / "other"
    _rollout(home, "2026/11/19", "a", worktree, 1000)
    newest = _rollout(home, "2026/11/20", "b", tmp_path / "link", 2000)
    _rollout(home, "2026/11/21", "c", other, 3000)
    env = {"CODEX_HOME": str(home)}
    assert find_transcript("codex", worktree=worktree, env=env) == newest
    assert find_transcript("codex", worktree=worktree, env=env, since=2500) is None
    assert find_transcript("codex", worktree=tmp_path / "none", env=env) is None
    assert find_transcript("codex", worktree=worktree, home=tmp_path / "empty") is None


def test_find_gemini_chat_by_registry_marker_or_hash(tmp_path: Path) -> None:
    home = tmp_path / "gemini"
    registered, marked, hashed = (tmp_path / name for name in ("reg", "mark", "hash"))
    for worktree in (registered, marked, hashed):
        worktree.mkdir()
    (home / "tmp").mkdir(parents=True)
    (home / "projects.json").write_text(json.dumps({"projects": {str(registered): "reg"}}))
    (home / "tmp" / "mark-1").mkdir()
    (home / "tmp" / "mark-1" / ".project_root").write_text(str(marked))
    digest = hashlib.sha256(str(hashed).encode()).hexdigest()
    expected = {}
    for worktree, folder in ((registered, "reg"), (marked, "mark-1"), (hashed, digest)):
        chats = home / "tmp" / folder / "chats"
        chats.mkdir(parents=True)
        older = chats / "session-2026-11-19T10-00-aaaaaaaa.json"
        newer = chats / "session-2026-11-20T10-00-bbbbbbbb.jsonl"
        older.write_text("{}")
        newer.write_text("")
        os.utime(older, (1000, 1000))
        os.utime(newer, (2000, 2000))
        expected[worktree] = (newer, older)
    for worktree, (newer, older) in expected.items():
        assert find_transcript("gemini", worktree=worktree, home=home) == newer
        found = find_transcript("gemini", worktree=worktree, home=home, session_id="aaaaaaaa-1")
        assert found == older
    assert find_transcript("gemini", worktree=tmp_path / "none", home=home) is None
