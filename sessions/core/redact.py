"""Secrets out of agent output before any of it leaves the machine for a summary.

Agents print keys: they `cat .env`, echo tokens in curl commands, paste stack traces with
database URLs. A summary request sends that text to Anthropic, so every piece of it passes here
first, and a miss is a leak while an extra `[redacted]` only costs a word of the summary: the
patterns lean towards hiding. They stop short where ordinary agent talk would drown: numbers
(`input_tokens: 1523`), plain words (`auth = none`), code that merely names a secret
(`token = get_token()`, `password = args.password`) and bare hex, since summaries cite commits.

Every pattern reports only the part that is secret, so `ANTHROPIC_API_KEY=[redacted]` still
tells the model what was there. All matches are found on the original text and merged before
anything is replaced, so no pattern ever sees another's `[redacted]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

REDACTED = "[redacted]"
MIN_ENV_VALUE = 6  # shorter .env values match too many ordinary words to be worth hiding
IGNORED_ENV_SUFFIXES = frozenset({"example", "sample", "template"})  # committed, not secret

_KEY_CHARS = r"[A-Za-z0-9_-]"
_SECRET_NAME = (
    r"(?:api[_-]?key|secret(?:[_-]?key)?|token|passw(?:or)?d|pwd|passphrase|private[_-]?key"
    r"|access[_-]?key|auth|authorization|credentials?)"
)
# The key must end with a secret word (`DB_PASSWORD`, `authToken`), so `password_field`,
# `max_tokens` and `author` are left alone.
_SCHEME = r"(?:(?:bearer|basic|token)[ \t]+)?"  # kept visible: "Authorization: Bearer [redacted]"
_ASSIGNMENT = re.compile(
    rf"(?<![\w.-])[\w.-]*{_SECRET_NAME}(?![\w.-])[\"']?[ \t]*(?::=|=>|[:=])(?!=)[ \t]*"
    rf"(?:[bfru]{{0,2}}\"{_SCHEME}(?P<dq>[^\"\n]*)\"|[bfru]{{0,2}}'{_SCHEME}(?P<sq>[^'\n]*)'"
    rf"|{_SCHEME}(?P<bare>[^\s\"'`,;()\[\]{{}}<>]+))",
    re.IGNORECASE,
)
_PEM_BEGIN = r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----"
_PEM_END = r"-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----"
_BUILT_IN = tuple(
    re.compile(pattern)
    for pattern in (
        # A block cut off by the screen has no END line: its base64 lines go instead. The search
        # for an END stops at the next BEGIN, so many cut-off blocks still cost linear time.
        rf"{_PEM_BEGIN}(?:(?:(?!-----BEGIN)[\s\S])*?{_PEM_END}"
        r"|[^\n]*(?:\n[^\w\n]{0,4}[A-Za-z0-9+/=]{16,}[^\w\n]{0,4}(?=\n|\Z))*)",
        rf"sk-ant-{_KEY_CHARS}{{8,}}",
        rf"(?<!{_KEY_CHARS})sk-(?:proj-|svcacct-|admin-)?(?={_KEY_CHARS}*\d){_KEY_CHARS}{{20,}}",
        r"(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})",
        rf"glpat-{_KEY_CHARS}{{20,}}",
        r"xox[abprs]-[A-Za-z0-9-]{10,}",
        r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
        rf"AIza{_KEY_CHARS}{{35}}",
        r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}",
        rf"eyJ{_KEY_CHARS}{{8,}}\.{_KEY_CHARS}{{8,}}\.{_KEY_CHARS}{{8,}}",
        # A bearer token holds a digit somewhere; "Bearer authentication" is prose.
        r"(?i:\bbearer)[ \t]+(?P<secret>(?=[\w.~+/=-]*\d)[\w.~+/=-]{8,})",
        r"(?i)\b[a-z][a-z0-9+.-]{0,30}://[^\s/:@]*:(?P<secret>[^\s/@]+)@",
    )
)
_NUMBER = re.compile(r"[-+]?[\d.,_]+")
_PLAIN_WORDS = frozenset(
    {"true", "false", "yes", "no", "on", "off", "null", "none", "nil", "undefined"}
)
_PLAIN_WORD = re.compile(r"[a-z]+|[A-Z][a-z]*|[A-Z]+")  # mixed case looks random, not a word
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_ATTRIBUTE = re.compile(r"[A-Za-z_]+(?:\.[A-Za-z_]+)+")  # self.token, args.password
_ENV_LINE = re.compile(r"\s*(?:export\s+)?(?P<key>[A-Za-z_][\w.-]*)\s*=\s*(?P<value>.*)")
_ENV_KEY = re.compile(rf"(?:.*[_.-])?{_SECRET_NAME}(?:[_.-].*)?", re.IGNORECASE)


class Redactor:
    """Removes secrets: the built-in families, the user's own patterns and literal values."""

    def __init__(self, patterns: Sequence[str] = (), values: Iterable[str] = ()) -> None:
        own: list[re.Pattern[str]] = []
        for pattern in patterns:
            try:
                own.append(re.compile(pattern))
            except (re.error, OverflowError) as error:
                raise ValueError(
                    f"[summaries] redact pattern '{pattern}' is not a valid regular "
                    f"expression: {error}."
                ) from None
        literal = sorted({value for value in values if value.strip()}, key=len, reverse=True)
        if literal:
            own.append(re.compile("|".join(re.escape(value) for value in literal)))
        self._patterns: tuple[re.Pattern[str], ...] = (*_BUILT_IN, *own)

    @classmethod
    def for_checkouts(cls, folders: Iterable[Path], patterns: Sequence[str] = ()) -> Redactor:
        """Also hides every value in the checkouts' .env files, wherever it turns up, since an
        agent that prints a connection string or a config dump shows them without their key."""
        values: set[str] = set()
        for folder in folders:
            for path in _env_files(folder):
                try:
                    text = path.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue  # a summary must never fail over a file it could not read
                values.update(_env_values(text))
        return cls(patterns, values)

    def redact(self, text: str) -> str:
        return _replace(text, self._spans(text), keep_lines=False)

    def redact_lines(self, lines: Iterable[str]) -> list[str]:
        """Redacts the lines as one text, so a key block spread over lines is still found, and
        keeps one line per line: a multi-line secret leaves `[redacted]` and blank lines."""
        given = list(lines)
        if not given:
            return []
        text = "\n".join(given)
        return _replace(text, self._spans(text), keep_lines=True).split("\n")

    def _spans(self, text: str) -> list[tuple[int, int]]:
        found = (_secret(m) for pattern in self._patterns for m in pattern.finditer(text))
        spans = [span for span in found if span is not None]
        for m in _ASSIGNMENT.finditer(text):
            name = next(n for n in ("dq", "sq", "bare") if m.group(n) is not None)
            if _hideable(m.group(name), text[m.end() : m.end() + 1]):
                spans.append(m.span(name))
        return spans


def _env_values(text: str) -> list[str]:
    """The values of one .env file worth hiding: `KEY=VALUE` or `export KEY=VALUE` lines,
    quoted or not. A plain word or host name counts only under a key that names a secret:
    `NODE_ENV=production` would otherwise hide "production" from every summary."""
    found: list[str] = []
    for line in text.splitlines():
        m = _ENV_LINE.fullmatch(line)
        if m is None:  # comments, blank lines and anything else
            continue
        raw = m.group("value").strip()
        if raw[:1] in ("'", '"'):
            value = raw[1:].split(raw[0], 1)[0]
        else:
            value = raw.split(" #", 1)[0].strip()
        if len(value) < MIN_ENV_VALUE or _NUMBER.fullmatch(value) or value.lower() in _PLAIN_WORDS:
            continue
        plain = _PLAIN_WORD.fullmatch(value) or _ATTRIBUTE.fullmatch(value)  # words, hostnames
        if not plain or _ENV_KEY.fullmatch(m.group("key")):
            found.append(value)
    return found


def _env_files(folder: Path) -> list[Path]:
    try:
        names = sorted(entry.name for entry in folder.iterdir())
    except OSError:
        return []
    return [
        folder / name
        for name in names
        if (name == ".env" or name.startswith(".env."))
        and IGNORED_ENV_SUFFIXES.isdisjoint(name.lower().split(".")[2:])
        and (folder / name).is_file()
    ]


def _hideable(value: str, after: str) -> bool:
    if not value or after == "(":  # a call names a secret, it does not hold one
        return False
    if _NUMBER.fullmatch(value) or value.lower() in _PLAIN_WORDS:
        return False
    if value[0] in "$%" or _PLACEHOLDER.search(value):  # ${DB_PASSWORD}, f"{token}", %s
        return False
    return not _ATTRIBUTE.fullmatch(value)


def _secret(m: re.Match[str]) -> tuple[int, int] | None:
    start, end = m.span("secret") if "secret" in m.re.groupindex else m.span()
    return (start, end) if end > start else None


def _replace(text: str, spans: list[tuple[int, int]], *, keep_lines: bool) -> str:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:  # overlapping or touching: one `[redacted]`
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out: list[str] = []
    done = 0
    for start, end in merged:
        newlines = text.count("\n", start, end) if keep_lines else 0
        out += [text[done:start], REDACTED + "\n" * newlines]
        done = end
    out.append(text[done:])
    return "".join(out)
