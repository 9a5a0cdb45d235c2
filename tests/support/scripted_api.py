"""What the model-API stand-ins share: a scripted loopback HTTP server.

Anthropic's Messages API (`tests.support.standin`), the OpenAI Responses API
(`tests.support.responses_standin`) and the Gemini API (`tests.support.gemini_standin`) need
the same machinery around a different wire format: a scenario of steps (a text answer, tool
calls, a delay before the first byte), requests recorded in order so tests wait on facts, and
HTTP/1.1 with chunked SSE streams as the real services send them. Each wire format subclasses
`ScriptedAPI` and says how to read a request and write an answer.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import secrets
import string
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType, TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar, cast
from urllib.parse import urlsplit

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """Ids shaped like the real ones (a prefix and random letters)."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def schema_instance(schema: Any, name: str = "", title: str = "Stand-in title") -> Any:
    """A small value that satisfies a JSON schema: the answer to a CLI's side request for JSON
    (a session title, a routing decision), which must never use up a scenario step."""
    if not isinstance(schema, dict):
        return None
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if isinstance(kind, str):
        kind = kind.lower()
    if kind == "object":
        properties = schema.get("properties") or {}
        return {key: schema_instance(value, key, title) for key, value in properties.items()}
    if kind == "array":
        return []
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return 0
    if kind == "string":
        return title if "title" in name.lower() else "stand-in"
    return None


@dataclass(frozen=True)
class Call:
    """One function call the model makes; `arguments` is the tool's JSON arguments object."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Tokens:
    """Token counts for one answer, in the words both APIs share."""

    input: int = 12
    output: int = 6
    cached: int = 0
    reasoning: int = 0


@dataclass(frozen=True)
class Turn:
    """One answer: optional text, then function calls.

    `delay` holds back the first byte (a slow model; the CLI shows it is working meanwhile).
    `when_last_user_contains` makes the step wait for a request whose latest user input
    contains that text; `repeat` answers that many matching requests.
    """

    text: str = ""
    calls: tuple[Call, ...] = ()
    tokens: Tokens = Tokens()
    delay: float = 0.0
    when_last_user_contains: str | None = None
    repeat: int = 1


@dataclass(frozen=True)
class Failure:
    """An HTTP error with the API's own error body; `delay` holds it back."""

    status: int = 500
    message: str = "Internal error"
    delay: float = 0.0
    when_last_user_contains: str | None = None
    repeat: int = 1


Step = Turn | Failure


class Scripted(Protocol):
    """What every format's steps have: a condition on the request, and a count."""

    @property
    def when_last_user_contains(self) -> str | None: ...

    @property
    def repeat(self) -> int: ...


S = TypeVar("S", bound=Scripted)


@dataclass(frozen=True)
class Request:
    """One request as it arrived; `kind` is "turn" when a scenario step answered it (its
    `step`, of the format's own step types)."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: Any
    kind: str
    last_user_text: str
    step: Any
    at: float
    tool_names: tuple[str, ...] = ()


class ScriptedAPI(Generic[S]):
    """The server life cycle, the scenario and the request log; subclasses speak the format."""

    def __init__(
        self,
        scenario: Iterable[S] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        done_text: str = "done",
    ) -> None:
        self._pending: list[S] = list(scenario)
        self._requests: list[Request] = []
        self._changed = threading.Condition()
        self._closing = threading.Event()
        self.done_text = done_text
        self._host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- what a wire format provides ------------------------------------------------------

    def handle(self, exchange: Exchange) -> None:
        raise NotImplementedError

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> Self:
        server = _Server((self._host, self._port), _Handler)
        server.api = self
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
        """The base URL for clients (ANTHROPIC_BASE_URL, a provider's base_url...)."""
        return f"http://{self._host}:{self.port}"

    # --- scenario and records ---------------------------------------------------------------

    def push(self, *steps: S) -> None:
        with self._changed:
            self._pending.extend(steps)
            self._changed.notify_all()

    def clear(self) -> tuple[S, ...]:
        """Drop the steps not yet used (e.g. the rest of an error the client stopped retrying)."""
        with self._changed:
            dropped = tuple(self._pending)
            self._pending.clear()
            return dropped

    @property
    def pending(self) -> tuple[S, ...]:
        with self._changed:
            return tuple(self._pending)

    @property
    def requests(self) -> tuple[Request, ...]:
        with self._changed:
            return tuple(self._requests)

    @property
    def turns(self) -> tuple[Request, ...]:
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
                    seen = [f"{r.kind}:{r.path}" for r in snapshot]
                    raise TimeoutError(
                        f"stand-in: no {what or 'matching requests'} after {timeout} s; saw {seen}"
                    )
                self._changed.wait(min(left, 0.1))

    def take_step(self, text: str) -> S | None:
        """The first pending step whose condition holds, so conditional steps can wait."""
        with self._changed:
            for index, step in enumerate(self._pending):
                wanted = step.when_last_user_contains
                if wanted is not None and wanted not in text:
                    continue
                if step.repeat > 1:
                    fewer = dataclasses.replace(cast(Any, step), repeat=step.repeat - 1)
                    self._pending[index] = cast(S, fewer)
                else:
                    del self._pending[index]
                return step
        return None

    def record(
        self,
        exchange: Exchange,
        kind: str,
        text: str,
        step: S | None,
        tool_names: tuple[str, ...] = (),
    ) -> None:
        request = Request(
            exchange.method,
            exchange.path,
            exchange.query,
            exchange.headers,
            exchange.body,
            kind,
            text,
            step,
            time.time(),
            tool_names,
        )
        with self._changed:
            self._requests.append(request)
            self._changed.notify_all()

    def sleep(self, seconds: float) -> bool:
        """Wait, but give up at once when the server closes; True while it is still open."""
        if seconds <= 0:
            return not self._closing.is_set()
        return not self._closing.wait(seconds)

    def _dispatch(self, handler: _Handler) -> None:
        split = urlsplit(handler.path)
        raw = handler.read_body()
        body: Any
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        headers = MappingProxyType({k.lower(): v for k, v in handler.headers.items()})
        exchange = Exchange(
            handler, handler.command, split.path.rstrip("/") or "/", split.query, headers, body, raw
        )
        try:
            self.handle(exchange)
        except ConnectionError:
            handler.close_connection = True


@dataclass(frozen=True)
class Exchange:
    """One request and the means to answer it."""

    handler: _Handler
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: Any
    raw: bytes = b""

    def _head(self, status: int, content_type: str, extra: Mapping[str, str]) -> None:
        handler = self.handler
        handler.send_response(status, _REASONS.get(status))
        handler.send_header("content-type", content_type)
        for name, value in extra.items():
            handler.send_header(name, value)

    def send_json(self, status: int, payload: Any, extra: Mapping[str, str] | None = None) -> None:
        """A JSON answer; `extra` headers (a request id, `retry-after`) as the format sends."""
        data = json.dumps(payload).encode()
        self._head(status, "application/json", extra or {})
        self.handler.send_header("content-length", str(len(data)))
        self.handler.end_headers()
        self.handler.wfile.write(data)
        self.handler.wfile.flush()

    def start_stream(
        self, content_type: str = "text/event-stream", extra: Mapping[str, str] | None = None
    ) -> None:
        self._head(200, content_type, {"cache-control": "no-cache", **(extra or {})})
        self.handler.send_header("transfer-encoding", "chunked")
        self.handler.end_headers()

    def send_event(self, data: Any, event: str | None = None) -> None:
        """One SSE event as a chunk: `event:` only for formats that name their events."""
        text = (f"event: {event}\n" if event else "") + f"data: {json.dumps(data)}\n\n"
        encoded = text.encode()
        self.handler.wfile.write(b"%x\r\n%s\r\n" % (len(encoded), encoded))
        self.handler.wfile.flush()

    def end_stream(self) -> None:
        self.handler.wfile.write(b"0\r\n\r\n")
        self.handler.wfile.flush()


# Status lines as the real services send them, where Python's table has none (529).
_REASONS = {529: "Overloaded"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    api: ScriptedAPI[Any]

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (an interrupt) is normal here, not an error."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        self.server.api._dispatch(self)

    do_GET = do_PUT = do_DELETE = do_PATCH = do_POST

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
        elif encoding == "zstd":
            raise ValueError("zstd request bodies are not supported by the stand-in")
        return raw
