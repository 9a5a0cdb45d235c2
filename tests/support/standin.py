"""A stand-in for the Anthropic Messages API on loopback, scripted step by step.

Tests run real clients (the anthropic SDK, the Claude Code CLI) against it, so they exercise the
real wire format, the real retry and timeout paths and the real tool execution, without a
network or a key. A scenario is a list of steps; each request for a model turn takes the first
pending step that applies to it (a step with `when_last_user_contains` waits for a request
whose last user message contains that text; steps without it apply to any), and once none is
left the answer is a short "done". Claude Code also sends side requests of its own (a session
title, compaction summaries; a one-token probe in some versions); those are recognised by
their shape (`side_answer`) and answered on the side, so a scenario never has to know how
many of them a given version sends.

    with StandIn([Reply(tools=(ToolUse("Write", {"file_path": p, "content": "x"}),)),
                  Reply(text="Wrote it.")]) as api:
        run_the_client(base_url=api.url)
        assert api.turns[0].last_user_text == "write x"

Also runnable by hand: `python -m tests.support.standin --port 8765 --scenario steps.json`,
where the file holds a JSON list of steps in the form `step_from_json` reads.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import gzip
import json
import re
import secrets
import string
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any, Literal, Self
from urllib.parse import urlsplit

RequestKind = Literal["turn", "side", "count_tokens", "other"]

DEFAULT_MODEL = "claude-opus-4-5"
_ALPHABET = string.ascii_letters + string.digits
_HTTP_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    529: "Overloaded",
}


def _new_id(prefix: str) -> str:
    """Ids shaped like the real ones, so parsers that check prefixes see realistic values."""
    return prefix + "01" + "".join(secrets.choice(_ALPHABET) for _ in range(22))


@dataclass(frozen=True)
class Usage:
    """Token counts reported for one response; every field is what the real API calls it."""

    input_tokens: int = 12
    output_tokens: int = 6
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def as_json(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ToolUse:
    """One tool call; an empty `id` gets a fresh `toolu_...` id each time it is answered."""

    name: str
    input: Mapping[str, Any] = field(default_factory=dict)
    id: str = ""


@dataclass(frozen=True)
class Reply:
    """A successful answer: optional text, then any tool calls, in that order.

    `delay` holds back the first byte (a slow model); `pause` stops the stream after its first
    delta (a model that goes quiet mid-answer). `stop_reason` defaults to `tool_use` when there
    are tool calls and `end_turn` otherwise. `repeat` answers that many matching requests.
    """

    text: str = ""
    tools: tuple[ToolUse, ...] = ()
    usage: Usage = Usage()
    stop_reason: str | None = None
    delay: float = 0.0
    pause: float = 0.0
    when_last_user_contains: str | None = None
    repeat: int = 1

    def effective_stop_reason(self) -> str:
        if self.stop_reason is not None:
            return self.stop_reason
        return "tool_use" if self.tools else "end_turn"


@dataclass(frozen=True)
class Failure:
    """An error answer with the real error body: 429 `rate_limit_error`, 529 `overloaded_error`...

    `retry_after` (seconds) becomes the `retry-after` header; `should_retry` the
    `x-should-retry` header that the SDKs obey before their own rules.
    """

    status: int = 500
    error_type: str = "api_error"
    message: str = "Internal server error"
    retry_after: float | None = None
    should_retry: bool | None = None
    delay: float = 0.0
    when_last_user_contains: str | None = None
    repeat: int = 1


Step = Reply | Failure


@dataclass(frozen=True)
class Request:
    """One request as it arrived, with the step that answered it (None for side answers)."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: Any
    kind: RequestKind
    step: Step | None
    at: float

    @property
    def last_user_text(self) -> str:
        return last_user_text(self.body)

    @property
    def tool_names(self) -> tuple[str, ...]:
        return _tool_names(self.body)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts: list[str] = []
    if isinstance(content, list):
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                parts.append(block["text"])
            elif block.get("type") == "tool_result":
                parts.append(_text_of(block.get("content", "")))
    return "\n".join(parts)


def last_user_text(body: Any) -> str:
    """The text of the last user message, including tool results, or "" when there is none."""
    if not isinstance(body, dict):
        return ""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return _text_of(message.get("content"))
    return ""


def _system_text(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    return _text_of(body.get("system", ""))


def _tool_names(body: Any) -> tuple[str, ...]:
    if not isinstance(body, dict) or not isinstance(body.get("tools"), list):
        return ()
    return tuple(str(tool.get("name", "")) for tool in body["tools"] if isinstance(tool, dict))


def _from_claude_code(body: Mapping[str, Any]) -> bool:
    system = _system_text(body)
    return "You are Claude Code" in system or "x-anthropic-billing-header" in system


def _schema_instance(schema: Any, name: str = "") -> Any:
    """A small value that satisfies a JSON schema, for side requests that ask for JSON."""
    if not isinstance(schema, dict):
        return None
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = schema.get("properties") or {}
        return {key: _schema_instance(value, key) for key, value in properties.items()}
    if kind == "array":
        return []
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return 0
    if kind == "string":
        return "Stand-in session" if "title" in name.lower() else "stand-in"
    return None


def _is_compaction(body: Mapping[str, Any]) -> bool:
    said = last_user_text(body)
    return "<summary>" in said and "summary of the conversation" in said


def side_answer(body: Mapping[str, Any]) -> str | None:
    """The answer to a side request, or None when the request is a model turn.

    Every turn Claude Code sends carries its full tool list; what it sends without tools is a
    side request (the session title, asked of the small model with a JSON schema in
    `output_config.format`; a one-token probe; summaries). Compaction (`/compact`, or after a
    "prompt is too long" error) is the exception: it sends the full tool list but asks for an
    `<analysis>` and a `<summary>` in its last user message. All of these get a fitting
    answer here and never consume a scenario step. Other clients' requests without tools (the
    SDK in tests) are turns, unless they ask for a single token.
    """
    if _is_compaction(body):
        return (
            "<analysis>The stand-in kept no notes.</analysis>\n"
            "<summary>Stand-in summary of the conversation so far.</summary>"
        )
    if _tool_names(body):
        return None
    output = body.get("output_config")
    format_ = output.get("format") if isinstance(output, dict) else None
    if isinstance(format_, dict) and format_.get("type") == "json_schema":
        return json.dumps(_schema_instance(format_.get("schema")))
    if int(body.get("max_tokens") or 0) == 1:
        return "ok"
    if _from_claude_code(body):
        return "Stand-in summary."
    return None


class StandIn:
    """The stand-in server; a context manager that serves on a free loopback port.

    Requests are recorded in order (`requests`, `turns`), steps can be added while it runs
    (`push`), and `wait` blocks until the recorded requests satisfy a condition, so tests
    wait on facts rather than sleeping.
    """

    def __init__(
        self,
        scenario: Iterable[Step] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        done_text: str = "done",
    ) -> None:
        self._pending: list[Step] = list(scenario)
        self._requests: list[Request] = []
        self._changed = threading.Condition()
        self._closing = threading.Event()
        self._done_text = done_text
        self._host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- life cycle ---------------------------------------------------------------------

    def start(self) -> Self:
        server = _Server((self._host, self._port), _Handler)
        server.standin = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the stand-in is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The base URL for clients: what ANTHROPIC_BASE_URL should be."""
        return f"http://{self._host}:{self.port}"

    # --- scenario and records -----------------------------------------------------------

    def push(self, *steps: Step) -> None:
        with self._changed:
            self._pending.extend(steps)
            self._changed.notify_all()

    def clear(self) -> tuple[Step, ...]:
        """Drop the steps not yet used (e.g. the rest of an error the client stopped retrying)."""
        with self._changed:
            dropped = tuple(self._pending)
            self._pending.clear()
            return dropped

    @property
    def pending(self) -> tuple[Step, ...]:
        with self._changed:
            return tuple(self._pending)

    @property
    def requests(self) -> tuple[Request, ...]:
        with self._changed:
            return tuple(self._requests)

    @property
    def turns(self) -> tuple[Request, ...]:
        """Only the requests that were model turns, as the scenario saw them."""
        return tuple(request for request in self.requests if request.kind == "turn")

    def wait(
        self,
        condition: Callable[[tuple[Request, ...]], object],
        timeout: float = 10.0,
        what: str = "",
    ) -> tuple[Request, ...]:
        """Block until `condition(requests)` is truthy; raise TimeoutError after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                snapshot = tuple(self._requests)
                if condition(snapshot):
                    return snapshot
                left = deadline - time.monotonic()
                if left <= 0:
                    paths = [f"{r.kind}:{r.path}" for r in snapshot]
                    raise TimeoutError(
                        f"stand-in: no {what or 'matching requests'} after {timeout} s; saw {paths}"
                    )
                self._changed.wait(min(left, 0.1))

    def _take_step(self, body: Any) -> Step | None:
        """The first pending step whose condition holds, so conditional steps can wait."""
        text = last_user_text(body)
        with self._changed:
            for index, step in enumerate(self._pending):
                wanted = step.when_last_user_contains
                if wanted is not None and wanted not in text:
                    continue
                if step.repeat > 1:
                    self._pending[index] = dataclasses.replace(step, repeat=step.repeat - 1)
                else:
                    del self._pending[index]
                return step
        return None

    def _record(self, request: Request) -> None:
        with self._changed:
            self._requests.append(request)
            self._changed.notify_all()

    # --- answering ----------------------------------------------------------------------

    def _handle(self, handler: _Handler) -> None:
        split = urlsplit(handler.path)
        path = split.path.rstrip("/") or "/"
        raw = handler.read_body()
        body: Any
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        headers = MappingProxyType({k.lower(): v for k, v in handler.headers.items()})
        method = handler.command

        def record(kind: RequestKind, step: Step | None) -> None:
            self._record(Request(method, path, split.query, headers, body, kind, step, time.time()))

        if method == "POST" and path == "/v1/messages/count_tokens":
            record("count_tokens", None)
            count = max(1, len(raw) // 4)
            handler.send_json(200, {"input_tokens": count})
            return
        if method != "POST" or path != "/v1/messages" or not isinstance(body, dict):
            record("other", None)
            handler.send_json(404, _error_body("not_found_error", f"Not found: {method} {path}"))
            return

        side = side_answer(body)
        if side is not None:
            record("side", None)
            self._answer(handler, body, Reply(text=side, usage=Usage(output_tokens=1)))
            return
        step = self._take_step(body)
        record("turn", step)
        if step is None:
            step = Reply(text=self._done_text)
        if isinstance(step, Failure):
            self._fail(handler, step)
        else:
            self._answer(handler, body, step)

    def _sleep(self, seconds: float) -> bool:
        """Wait, but give up at once when the server closes; True when it is still open."""
        if seconds <= 0:
            return not self._closing.is_set()
        return not self._closing.wait(seconds)

    def _fail(self, handler: _Handler, step: Failure) -> None:
        if not self._sleep(step.delay):
            return
        extra: dict[str, str] = {}
        if step.retry_after is not None:
            extra["retry-after"] = f"{step.retry_after:g}"
        if step.should_retry is not None:
            extra["x-should-retry"] = "true" if step.should_retry else "false"
        handler.send_json(step.status, _error_body(step.error_type, step.message), extra)

    def _answer(self, handler: _Handler, body: Mapping[str, Any], step: Reply) -> None:
        if not self._sleep(step.delay):
            return
        model = str(body.get("model") or DEFAULT_MODEL)
        blocks = _content(step)
        if not body.get("stream"):
            message = {
                "id": _new_id("msg_"),
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": blocks,
                "stop_reason": step.effective_stop_reason(),
                "stop_sequence": None,
                "usage": step.usage.as_json(),
            }
            handler.send_json(200, message)
            return
        try:
            handler.start_stream()
            for number, event in enumerate(_events(model, blocks, step)):
                handler.send_event(event)
                if number == 0:
                    handler.send_event({"type": "ping"})
                if step.pause > 0 and event.get("type") == "content_block_delta":
                    if not self._sleep(step.pause):
                        return
                    step = dataclasses.replace(step, pause=0.0)
            handler.end_stream()
        except ConnectionError:
            handler.close_connection = True


def _error_body(error_type: str, message: str) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": _new_id("req_"),
    }


def _content(step: Reply) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if step.text:
        blocks.append({"type": "text", "text": step.text})
    for tool in step.tools:
        blocks.append(
            {
                "type": "tool_use",
                "id": tool.id or _new_id("toolu_"),
                "name": tool.name,
                "input": dict(tool.input),
            }
        )
    return blocks


def _pieces(text: str, size: int) -> Iterator[str]:
    """Split text into a few deltas, as the real API streams it a handful of tokens at a time."""
    if not text:
        return
    for start in range(0, len(text), size):
        yield text[start : start + size]


def _events(
    model: str, blocks: Sequence[Mapping[str, Any]], step: Reply
) -> Iterator[dict[str, Any]]:
    usage = step.usage
    yield {
        "type": "message_start",
        "message": {
            "id": _new_id("msg_"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {**usage.as_json(), "output_tokens": min(1, usage.output_tokens)},
        },
    }
    for index, block in enumerate(blocks):
        if block["type"] == "text":
            yield {
                "type": "content_block_start",
                "index": index,
                "content_block": {"type": "text", "text": ""},
            }
            for piece in _pieces(block["text"], 24):
                yield {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "text_delta", "text": piece},
                }
        else:
            yield {
                "type": "content_block_start",
                "index": index,
                "content_block": {
                    "type": "tool_use",
                    "id": block["id"],
                    "name": block["name"],
                    "input": {},
                },
            }
            arguments = json.dumps(block["input"])
            for piece in _pieces(arguments, max(8, len(arguments) // 3 + 1)):
                yield {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "input_json_delta", "partial_json": piece},
                }
        yield {"type": "content_block_stop", "index": index}
    yield {
        "type": "message_delta",
        "delta": {"stop_reason": step.effective_stop_reason(), "stop_sequence": None},
        "usage": usage.as_json(),
    }
    yield {"type": "message_stop"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    standin: StandIn

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (an interrupt, a timeout) is normal here, not an error."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive and chunked streams, as the real API serves them."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        self.server.standin._handle(self)

    do_GET = do_POST
    do_PUT = do_POST
    do_DELETE = do_POST
    do_PATCH = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the recorded requests are the log."""

    def read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            raw = b"".join(chunks)
        else:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        encoding = self.headers.get("content-encoding", "").lower()
        if encoding == "gzip":
            raw = gzip.decompress(raw)
        elif encoding == "deflate":
            raw = zlib.decompress(raw)
        return raw

    def _head(self, status: int, content_type: str, extra: Mapping[str, str]) -> None:
        self.send_response(status, _HTTP_REASONS.get(status))
        self.send_header("content-type", content_type)
        self.send_header("request-id", _new_id("req_"))
        for name, value in extra.items():
            self.send_header(name, value)

    def send_json(
        self, status: int, payload: Mapping[str, Any], extra: Mapping[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        try:
            self._head(status, "application/json", extra or {})
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except ConnectionError:
            self.close_connection = True

    def start_stream(self) -> None:
        self._head(200, "text/event-stream; charset=utf-8", {"cache-control": "no-cache"})
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

    def send_event(self, event: Mapping[str, Any]) -> None:
        data = f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


# --- scenario files -----------------------------------------------------------------------


def step_from_json(data: Mapping[str, Any]) -> Step:
    """Read one step from its JSON form.

    A reply: `{"text": ..., "tools": [{"name": ..., "input": {...}}], "usage": {...},
    "stop_reason": ..., "delay": s, "pause": s, "when_last_user_contains": ..., "repeat": n}`.
    An error: `{"error": {"status": 429, "type": "rate_limit_error", "message": ...,
    "retry_after": s, "should_retry": bool}, "delay": s, ...}`.
    """
    common: dict[str, Any] = {
        "delay": float(data.get("delay", 0.0)),
        "when_last_user_contains": data.get("when_last_user_contains"),
        "repeat": int(data.get("repeat", 1)),
    }
    if "error" in data:
        error = data["error"]
        return Failure(
            status=int(error.get("status", 500)),
            error_type=str(error.get("type", "api_error")),
            message=str(error.get("message", "error")),
            retry_after=None if error.get("retry_after") is None else float(error["retry_after"]),
            should_retry=error.get("should_retry"),
            **common,
        )
    tools = tuple(
        ToolUse(str(tool["name"]), dict(tool.get("input", {})), str(tool.get("id", "")))
        for tool in data.get("tools", ())
    )
    return Reply(
        text=str(data.get("text", "")),
        tools=tools,
        usage=Usage(**data.get("usage", {})),
        stop_reason=data.get("stop_reason"),
        pause=float(data.get("pause", 0.0)),
        **common,
    )


def load_scenario(path: Path) -> list[Step]:
    data = json.loads(path.read_text())
    if not isinstance(data, list):
        raise ValueError(f"{path}: a scenario is a JSON list of steps")
    return [step_from_json(item) for item in data]


def _describe(request: Request) -> str:
    body = request.body if isinstance(request.body, dict) else {}
    said = re.sub(r"\s+", " ", request.last_user_text)[:70]
    return (
        f"{time.strftime('%H:%M:%S')} {request.kind:<12} {request.method} {request.path}"
        f" tools={len(request.tool_names)} max_tokens={body.get('max_tokens')}"
        f" stream={body.get('stream')} user={said!r}"
    )


def _longer_than(count: int, requests: Sequence[Request]) -> bool:
    return len(requests) > count


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.standin",
        description="Serve a scripted stand-in of the Messages API on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--scenario", type=Path, help="JSON list of steps")
    parser.add_argument("--log", type=Path, help="append every request body here as JSONL")
    args = parser.parse_args(argv)
    scenario = load_scenario(args.scenario) if args.scenario else []
    with StandIn(scenario, port=args.port) as api:
        print(f"ANTHROPIC_BASE_URL={api.url}", flush=True)
        seen = 0
        try:
            while True:
                requests = api.wait(functools.partial(_longer_than, seen), timeout=3600)
                for request in requests[seen:]:
                    print(_describe(request), flush=True)
                    if args.log:
                        with args.log.open("a") as log:
                            record = {"path": request.path, "kind": request.kind}
                            log.write(json.dumps({**record, "body": request.body}) + "\n")
                seen = len(requests)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
