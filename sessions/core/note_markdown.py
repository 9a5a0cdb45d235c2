"""What a Markdown note says: backlog items done and open, the next step, the test pass rate.

Agents write PROGRESS.md and notes/ in any shape, so the reading is forgiving and pure: any text
goes in, and what cannot be recognised is simply not counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_ITEM_CHARS = 200


@dataclass(frozen=True)
class PassRate:
    """A test pass rate as a file states it; `passed`/`total` when the line gives counts."""

    percent: float
    passed: int | None
    total: int | None
    line: str


@dataclass(frozen=True)
class Heading:
    level: int
    title: str
    line: int  # 1-based


@dataclass(frozen=True)
class NoteFacts:
    """What one Markdown file says, as far as a forgiving reading can tell."""

    headings: tuple[Heading, ...] = ()
    done: tuple[str, ...] = ()
    open: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()
    next_step: str | None = None
    pass_rate: PassRate | None = None


_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^\s{0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*#*[ \t]*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+(.*\S)\s*$")
_BOX = re.compile(r"^\[([ xX✓✔])\]\s*(.*)$")
_STRUCK = re.compile(r"~~(.+?)~~")
_TICKS = "✓✔✅☑"
_LABEL = re.compile(
    r"^[\s>*_#-]*(recommended\s+next\s+steps?|next\s+steps?|next)[*_\s]*[:：][*_\s]*(.*)$",
    re.IGNORECASE,
)
_LABEL_INLINE = re.compile(
    r"[.;!?]\s+[*_]*(recommended\s+next\s+steps?|next\s+steps?)[*_\s]*[:：][*_\s]*(.*)$",
    re.IGNORECASE,
)
# Numbers start where a run of digits starts and are at most 9 digits long, and no two
# repeated groups can match the same characters: a line of noise costs linear time.
_RATE = re.compile(r"pass(?:ing)?\s*rate[*_\s]*(?:[:：][*_\s]*)?(\d{1,3}(?:\.\d{1,3})?)\s*%", re.I)
_COUNTS = re.compile(r"[\s,;(\[—-]*(\d{1,9})\s*(?:/|of|out\s+of)\s*(\d{1,9})(?!\d)")
_PASSING = re.compile(
    r"(?<!\d)(\d{1,9})\s*(?:/|of|out\s+of)\s*(\d{1,9})\s+"
    r"(?:(?:\w+\s+)?(?:tests?|specs?|cases?|checks?)\s+)?(?:are\s+|now\s+)?"
    r"(?:pass(?:ing|ed|es)?|green)\b",
    re.I,
)
_PYTEST = re.compile(r"(?<!\d)(\d{1,9})\s+passed(?:,\s*(\d{1,9})\s+failed)?", re.I)
_TASK_SECTION = re.compile(r"backlog|todo|to do|task|priorit|next|plan|roadmap|remaining", re.I)
_DONE_SECTION = re.compile(r"done|complete|finished|shipped", re.I)
_ISSUE_SECTION = re.compile(r"issue|bug|problem|blocker|known", re.I)
_STATUS_SECTION = re.compile(r"status", re.I)


def read_markdown(text: str) -> NoteFacts:
    """Reads any text as Markdown and never fails: unknown shapes are simply not counted.

    Checkbox items (`- [x]`, `* [X]`, `1. [ ]`) and struck-through or ticked items (`~~…~~ ✓`)
    count wherever they are; plain bullets and numbered items count as open under a task-like
    heading (backlog, todo, next, plan...), as done under a done-like one, and as issues under
    "Known Issues". The next step and the pass rate prefer the status section, else the file's
    last mention, since agents append their latest news at the end."""
    reader = _Reader()
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        opener = _FENCE.match(line)
        if fence is not None:
            if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence):
                fence = None
            continue
        if opener:
            fence = opener.group(1)
            continue
        reader.line(number, line)
    return reader.facts()


class _Reader:
    """The running state of one pass over a file: the section a line is in, and what was found."""

    def __init__(self) -> None:
        self.headings: list[Heading] = []
        self.done: list[str] = []
        self.open: list[str] = []
        self.issues: list[str] = []
        self.section = ""
        self.in_status = False
        self.next_step: tuple[bool, str] | None = None
        self.pass_rate: tuple[bool, PassRate] | None = None
        self.next_waits = False  # a label with nothing after it: the next line is the value
        self.next_goes_on = False  # the next step's paragraph may continue on the next line
        self.previous = ""  # the previous line, when it could be a setext heading's title

    def line(self, number: int, line: str) -> None:
        stripped = line.strip()
        if self._heading(number, line, stripped):
            self.previous = ""
            return
        if not stripped:
            self.next_goes_on = False
            self.previous = ""
            return
        item = _ITEM.match(stripped)
        if item:
            self._item(item.group(1))
        if not self._next(stripped) and (self.next_waits or self.next_goes_on):
            self._continue_next(stripped, item is not None)
        rate = pass_rate(stripped)
        if rate is not None:
            self._remember_rate(rate)
        self.previous = "" if item else stripped

    def _heading(self, number: int, line: str, stripped: str) -> bool:
        match = _ATX.match(line)
        if match:
            title, level = (match.group(2) or "").strip(), len(match.group(1))
        elif self.previous and _SETEXT.match(line) and stripped not in ("-", "--"):
            title, level, number = self.previous, 1 if stripped[0] == "=" else 2, number - 1
        else:
            return False
        self.headings.append(Heading(level, _clean(title), number))
        self.section = title
        self.in_status = bool(_STATUS_SECTION.search(title))
        self.next_waits = self.next_goes_on = False
        return True

    def _item(self, body: str) -> None:
        box = _BOX.match(body)
        if box:
            target = self.open if box.group(1) == " " else self.done
            target.append(_item_text(box.group(2)))
            return
        if body.startswith("~~") or _ticked(body):
            self.done.append(_item_text(body))
        elif _ISSUE_SECTION.search(self.section) and not _TASK_SECTION.search(self.section):
            self.issues.append(_item_text(body))
        elif _DONE_SECTION.search(self.section):
            self.done.append(_item_text(body))
        elif _TASK_SECTION.search(self.section):
            self.open.append(_item_text(body))

    def _next(self, stripped: str) -> bool:
        match = _LABEL.match(stripped) or _LABEL_INLINE.search(stripped)
        if not match or (match.group(1).lower() == "next" and not self.in_status):
            return False
        value = _clean(match.group(2))
        self.next_waits = not value
        self.next_goes_on = False
        if value:
            self._remember_next(value)
        return True

    def _continue_next(self, stripped: str, item: bool) -> None:
        if self.next_waits:
            self.next_waits = False
            body = _ITEM.match(stripped)
            self._remember_next(_clean(body.group(1) if body else stripped))
        elif self.next_goes_on and not item and self.next_step is not None:
            joined = f"{self.next_step[1]} {_clean(stripped)}"[:MAX_ITEM_CHARS]
            self.next_step = (self.next_step[0], joined)

    def _remember_next(self, value: str) -> None:
        """The status section's latest mention wins, else the file's latest one."""
        if self.next_step is None or self.in_status or not self.next_step[0]:
            self.next_step = (self.in_status, value[:MAX_ITEM_CHARS])
            self.next_goes_on = True

    def _remember_rate(self, rate: PassRate) -> None:
        if self.pass_rate is None or self.in_status or not self.pass_rate[0]:
            self.pass_rate = (self.in_status, rate)

    def facts(self) -> NoteFacts:
        return NoteFacts(
            headings=tuple(self.headings),
            done=tuple(self.done),
            open=tuple(self.open),
            issues=tuple(self.issues),
            next_step=self.next_step[1] if self.next_step else None,
            pass_rate=self.pass_rate[1] if self.pass_rate else None,
        )


def pass_rate(line: str) -> PassRate | None:
    """The pass rate a single line states, or None: "Test pass rate: 93% (140/150)",
    "140/150 tests passing", "140 passed, 10 failed". Impossible numbers are not a rate."""
    rate = _RATE.search(line)
    if rate:
        percent = float(rate.group(1))
        counts = _COUNTS.match(line, rate.end())
        passed, total = _counts(counts.group(1), counts.group(2)) if counts else (None, None)
        return PassRate(percent, passed, total, line) if percent <= 100.0 else None
    for pattern in (_PASSING, _PYTEST):
        match = pattern.search(line)
        if not match:
            continue
        if pattern is _PYTEST:
            failed = int(match.group(2) or 0)
            passed, total = _counts(match.group(1), str(int(match.group(1)) + failed))
        else:
            passed, total = _counts(match.group(1), match.group(2))
        if passed is not None and total is not None:
            return PassRate(round(100.0 * passed / total, 1), passed, total, line)
    return None


def _counts(passed: str, total: str) -> tuple[int | None, int | None]:
    good, whole = int(passed), int(total)
    return (good, whole) if whole > 0 and good <= whole else (None, None)


def _ticked(body: str) -> bool:
    return body[:1] in _TICKS or body.rstrip()[-1:] in _TICKS


def _item_text(body: str) -> str:
    text = _STRUCK.sub(r"\1", body).replace("~~", "")
    return _clean(text.strip(_TICKS + " \t-–—:"))[:MAX_ITEM_CHARS]


def _clean(text: str) -> str:
    """Plain words: no emphasis markers around them."""
    return text.strip().strip("*_").strip()
