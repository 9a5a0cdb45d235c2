"""A stand-in for the Gemini API on loopback, for the real Gemini CLI.

Gemini CLI, given `GOOGLE_GEMINI_BASE_URL` and `GEMINI_API_KEY`, POSTs
`/v1beta/models/<model>:streamGenerateContent?alt=sse` for each model turn and reads SSE
`data:` lines, each a `GenerateContentResponse` (`candidates[0].content.parts[]` holding
`text` or `functionCall {name, args}`, a `finishReason` on the last one, `usageMetadata`).
A `functionCall` makes the CLI run its own tool (`run_shell_command`, `write_file`, ...),
asking for confirmation first in its default approval mode, and send the result back as a
`functionResponse` part. Besides turns it sends side requests of its own (`generateContent`
for JSON answers such as the model router's choice, `countTokens`); they are answered here
without using up a scenario step.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tests.support.scripted_api import Exchange, Failure, ScriptedAPI, Step, Turn, schema_instance

DEFAULT_MODEL = "gemini-2.5-pro"


def last_user_text(body: Any) -> str:
    """The text of the last user content: a typed prompt or a tool's function response."""
    if not isinstance(body, dict) or not isinstance(body.get("contents"), list):
        return ""
    for content in reversed(body["contents"]):
        if not isinstance(content, dict) or content.get("role", "user") != "user":
            continue
        texts: list[str] = []
        for part in content.get("parts") or ():
            if not isinstance(part, dict):
                continue
            if isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif isinstance(part.get("functionResponse"), dict):
                texts.append(json.dumps(part["functionResponse"].get("response")))
        return "\n".join(texts)
    return ""


def has_tools(body: Any) -> bool:
    tools = body.get("tools") if isinstance(body, dict) else None
    return isinstance(tools, list) and any(
        isinstance(tool, dict) and tool.get("functionDeclarations") for tool in tools
    )


def side_answer(body: Any, streaming: bool) -> str | None:
    """The answer to a request that is not a model turn, else None.

    Turns are streamed and carry the tool declarations; the CLI's own questions (which model
    to route to, whether the model should speak next, a loop check) ask for JSON with a
    schema, or come without tools.
    """
    config = body.get("generationConfig") if isinstance(body, dict) else None
    config = config if isinstance(config, dict) else {}
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    if schema is not None:
        return json.dumps(schema_instance(schema))
    if config.get("responseMimeType") == "application/json":
        return "{}"
    if not streaming or not has_tools(body):
        return "Stand-in side answer."
    return None


class GeminiStandIn(ScriptedAPI[Step]):
    """Answers `:streamGenerateContent` from the scenario; side requests on the side."""

    def handle(self, exchange: Exchange) -> None:
        path, body = exchange.path, exchange.body
        model = path.rsplit("/", 1)[-1].split(":", 1)[0] or DEFAULT_MODEL
        if path.endswith(":countTokens"):
            self.record(exchange, "count_tokens", "", None)
            exchange.send_json(200, {"totalTokens": max(1, len(json.dumps(body)) // 4)})
            return
        streaming = path.endswith(":streamGenerateContent")
        if exchange.method != "POST" or not (streaming or path.endswith(":generateContent")):
            self.record(exchange, "other", "", None)
            exchange.send_json(404, _error(404, f"Not found: {exchange.method} {path}"))
            return
        text = last_user_text(body)
        side = side_answer(body, streaming)
        if side is not None:
            self.record(exchange, "side", text, None)
            self._answer(exchange, model, Turn(text=side), streaming)
            return
        step = self.take_step(text)
        self.record(exchange, "turn", text, step)
        if step is None:
            step = Turn(text=self.done_text)
        if not self.sleep(step.delay):
            return
        if isinstance(step, Failure):
            exchange.send_json(step.status, _error(step.status, step.message))
            return
        self._answer(exchange, model, step, streaming)

    def _answer(self, exchange: Exchange, model: str, turn: Turn, streaming: bool) -> None:
        chunks = list(responses(model, turn))
        if not streaming:
            parts = [
                part for chunk in chunks for part in chunk["candidates"][0]["content"]["parts"]
            ]
            whole = {**chunks[-1]}
            whole["candidates"] = [{**chunks[-1]["candidates"][0], "content": _content(parts)}]
            exchange.send_json(200, whole)
            return
        exchange.start_stream()
        for chunk in chunks:
            exchange.send_event(chunk)
        exchange.end_stream()


def _error(status: int, message: str) -> dict[str, Any]:
    names = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED"}
    return {"error": {"code": status, "message": message, "status": names.get(status, "INTERNAL")}}


def _content(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"role": "model", "parts": parts}


def responses(model: str, turn: Turn) -> Iterator[dict[str, Any]]:
    """The streamed chunks of one answer: text in pieces, then the calls, then the finish."""
    tokens = turn.tokens
    usage = {
        "promptTokenCount": tokens.input,
        "candidatesTokenCount": tokens.output,
        "cachedContentTokenCount": tokens.cached,
        "thoughtsTokenCount": tokens.reasoning,
        "totalTokenCount": tokens.input + tokens.output + tokens.reasoning,
    }
    pieces: list[list[dict[str, Any]]] = [
        [{"text": turn.text[start : start + 24]}] for start in range(0, len(turn.text), 24)
    ]
    if turn.calls:
        calls = [{"functionCall": {"name": c.name, "args": dict(c.arguments)}} for c in turn.calls]
        pieces.append(calls)
    if not pieces:
        pieces.append([{"text": ""}])
    for number, parts in enumerate(pieces):
        candidate: dict[str, Any] = {"content": _content(parts), "index": 0}
        chunk: dict[str, Any] = {"candidates": [candidate], "modelVersion": model}
        if number == len(pieces) - 1:
            candidate["finishReason"] = "STOP"
            chunk["usageMetadata"] = usage
        yield chunk
