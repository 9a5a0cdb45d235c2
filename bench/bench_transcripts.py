"""How fast corral reads agent transcripts, whole and as they grow, against the naive way.

A Claude Code transcript of the size a long day leaves behind (50 MB by default) is generated
from the line shapes of the recorded 2.1.330 session: prompts, attachments, request records,
responses written as two lines with one message id, tool results of a few hundred bytes to tens
of kilobytes. Measured:

- whole: a fresh `Transcript` reads the finished file once;
- 64 KB appends: the file grows 64 KB at a time (cut anywhere, mid-line too) and is read after
  every append, as a watcher does while an agent works;
- naive: every time the file grows, read it all again and `json.loads` every line. Run for real
  on the first few megabytes and extrapolated to the full size from its whole-file rate;
- one-shot: what `corral ls --json` pays in a fresh process for the last 64 KB: load the
  checkpoint, read what is new, save the checkpoint.

Run: .venv/bin/python bench/bench_transcripts.py [--mb 50] [--runs 5] [--naive-mb 4]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sessions.agents.transcripts import (
    Transcript,
    checkpoint_path,
    load_checkpoint,
    save_checkpoint,
)

APPEND = 64 * 1024
SESSION = "5f0c3a9e-7b1d-4c2e-9a8f-3d6e1b2c4a99"
MB = 1024 * 1024


def _stamp(n: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1795329600 + n)) + ".000Z"


def _common(n: int, parent: str) -> dict[str, object]:
    return {
        "parentUuid": parent,
        "isSidechain": False,
        "uuid": f"u{n}",
        "timestamp": _stamp(n),
        "userType": "external",
        "entrypoint": "cli",
        "cwd": "/WORKTREE",
        "sessionId": SESSION,
        "version": "2.1.330",
        "gitBranch": "corral/alpha",
    }


def _usage(rng: random.Random, context: int) -> dict[str, object]:
    return {
        "input_tokens": rng.randint(1, 40),
        "cache_creation_input_tokens": rng.randint(100, 4000),
        "cache_read_input_tokens": context,
        "output_tokens": rng.randint(20, 900),
        "output_tokens_details": {"thinking_tokens": 0},
        "service_tier": "standard",
        "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
    }


def _turn(rng: random.Random, n: int) -> Iterator[dict[str, object]]:
    """One prompt and a few tool round trips, in the shapes Claude Code writes."""
    text = "lorem ipsum dolor sit amet " * 4
    yield {**_common(n, f"u{n - 1}"), "type": "user", "message": {"role": "user", "content": text}}
    yield {
        **_common(n + 1, f"u{n}"),
        "type": "attachment",
        "attachment": {"type": "session_context", "context": {"gitStatus": "x" * 1200}},
    }
    for step in range(rng.randint(1, 6)):
        k = n + 2 + step * 4
        message_id = f"msg_{k:012d}"
        usage = _usage(rng, 20_000 + 1000 * step)
        path = f"/WORKTREE/src/module_{rng.randint(0, 40)}.py"
        message: dict[str, object] = {"id": message_id, "type": "message", "role": "assistant"}
        message |= {"model": "claude-opus-5-5", "stop_reason": "tool_use", "usage": usage}
        yield {
            **_common(k, f"u{k - 1}"),
            "type": "api-request",
            "id": f"req-{k}",
            "querySource": "repl_main_thread",
            "shapeHash": "577fd1713b29e41ed744b457a006d6a6",
        }
        words = {"type": "text", "text": "Reading the module next. " * rng.randint(1, 8)}
        yield {**_common(k + 1, f"u{k}"), "type": "assistant", "requestId": f"req_{k}"} | {
            "message": {**message, "content": [words]}
        }
        tool: dict[str, object] = {"type": "tool_use", "id": f"toolu_{k:012d}"}
        if rng.random() < 0.6:
            tool |= {"name": "Read", "input": {"file_path": path}}
        else:
            body = "x = 1\n" * rng.randint(10, 400)
            tool |= {
                "name": "Edit",
                "input": {"file_path": path, "old_string": body, "new_string": body},
            }
        yield {**_common(k + 2, f"u{k + 1}"), "type": "assistant", "requestId": f"req_{k}"} | {
            "message": {**message, "content": [tool]}
        }
        size = int(rng.lognormvariate(7.5, 1.2))
        result = {"type": "tool_result", "tool_use_id": tool["id"], "content": "y" * size}
        yield {**_common(k + 3, f"u{k + 2}"), "type": "user"} | {
            "message": {"role": "user", "content": [result]},
            "toolUseResult": {"type": "text", "file": {"filePath": path, "numLines": size // 40}},
        }


def generate(path: Path, megabytes: float, seed: int = 7) -> int:
    rng = random.Random(seed)
    limit = int(megabytes * MB)
    written, n = 0, 0
    with path.open("wb") as handle:
        while written < limit:
            for record in _turn(rng, n):
                raw = json.dumps(record, separators=(",", ":")).encode() + b"\n"
                handle.write(raw)
                written += len(raw)
            n += 40
    return written


def read_whole(path: Path) -> float:
    began = time.perf_counter()
    Transcript("claude", [path]).read()
    return time.perf_counter() - began


def read_growing(source: bytes, target: Path) -> float:
    """Seconds spent reading (not appending) while the file grows 64 KB at a time."""
    target.write_bytes(b"")
    transcript = Transcript("claude", [target])
    spent = 0.0
    with target.open("ab", buffering=0) as handle:
        for start in range(0, len(source), APPEND):
            handle.write(source[start : start + APPEND])
            began = time.perf_counter()
            transcript.read()
            spent += time.perf_counter() - began
    return spent


def naive_whole(data: bytes) -> float:
    began = time.perf_counter()
    for raw in data.split(b"\n"):
        if raw:
            json.loads(raw)
    return time.perf_counter() - began


def naive_growing(source: bytes, target: Path) -> float:
    target.write_bytes(b"")
    spent = 0.0
    with target.open("ab", buffering=0) as handle:
        for start in range(0, len(source), APPEND):
            handle.write(source[start : start + APPEND])
            began = time.perf_counter()
            for raw in target.read_bytes().split(b"\n")[:-1]:
                if raw:
                    json.loads(raw)
            spent += time.perf_counter() - began
    return spent


def one_shot(source: bytes, target: Path, cache: Path) -> tuple[float, int]:
    """Seconds for load + read the last 64 KB + save, and the checkpoint's size in bytes."""
    head, tail = source[: len(source) - APPEND], source[len(source) - APPEND :]
    target.write_bytes(head)
    transcript = Transcript("claude", [target])
    transcript.read()
    save_checkpoint(cache, str(target), transcript)
    with target.open("ab") as handle:
        handle.write(tail)
    began = time.perf_counter()
    restored = load_checkpoint(cache, str(target))
    assert restored is not None
    restored.read()
    save_checkpoint(cache, str(target), restored)
    spent = time.perf_counter() - began
    return spent, checkpoint_path(cache, str(target)).stat().st_size


def sample(action: Callable[[], float], runs: int) -> list[float]:
    return [action() for _ in range(runs)]


def rate_row(name: str, megabytes: float, seconds: list[float]) -> str:
    rates = sorted(megabytes / s for s in seconds)
    return (
        f"| {name:<44} | {megabytes:>6.1f} | {statistics.median(rates):>11.1f} | "
        f"{rates[0]:>9.1f} | {rates[-1]:>9.1f} | {len(rates):>4} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=50.0, help="size of the generated transcript")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--naive-mb", type=float, default=4.0, help="naive re-reads run for real")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="corral-bench-") as folder:
        base = Path(folder)
        whole_path = base / f"{SESSION}.jsonl"
        size = generate(whole_path, args.mb)
        source = whole_path.read_bytes()
        megabytes = size / MB
        lines = source.count(b"\n")
        print(f"generated {megabytes:.1f} MB, {lines} lines", file=sys.stderr)
        growing = base / "growing.jsonl"
        small = source[: int(args.naive_mb * MB)]
        rows = [
            rate_row(
                "corral, whole file", megabytes, sample(lambda: read_whole(whole_path), args.runs)
            ),
            rate_row(
                "corral, read after every 64 KB append",
                megabytes,
                sample(lambda: read_growing(source, growing), max(1, args.runs // 2)),
            ),
        ]
        naive_rate_runs = sample(lambda: naive_whole(source), args.runs)
        rows.append(rate_row("naive json.loads per line, whole file", megabytes, naive_rate_runs))
        naive_small = sample(lambda: naive_growing(small, growing), max(1, args.runs // 2))
        rows.append(
            rate_row("naive, re-read all after every 64 KB append", len(small) / MB, naive_small)
        )
        steps = range(APPEND, size + APPEND, APPEND)
        naive_seconds = [sum(min(s, size) for s in steps) / size * t for t in naive_rate_runs]
        rows.append(rate_row("naive, same at full size (extrapolated)", megabytes, naive_seconds))
        shots = [one_shot(source, growing, base / f"cache-{n}") for n in range(args.runs)]
    header = (
        "| measure                                      |     MB | median MB/s |  min MB/s |"
        "  max MB/s | runs |\n"
        "|----------------------------------------------|--------|-------------|-----------|"
        "-----------|------|"
    )
    print(header)
    print("\n".join(rows))
    ms = sorted(s * 1000 for s, _ in shots)
    print(
        f"\none-shot (`corral ls --json`): load checkpoint + read last 64 KB + save: "
        f"median {statistics.median(ms):.1f} ms (min {ms[0]:.1f}, max {ms[-1]:.1f}, "
        f"{len(ms)} runs); checkpoint {shots[0][1] / 1024:.1f} KB for {lines} lines"
    )
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
