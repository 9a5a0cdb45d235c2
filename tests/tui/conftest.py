"""Helpers for the dashboard's tests: a fake herd in a temporary folder, the app around it,
a record of its notifications, and an async wait on a condition."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from textual.pilot import Pilot

from tests.tui.fakes import FakeHerd, make_herd
from tui.app import CorralApp

T = TypeVar("T")


@pytest.fixture(autouse=True)
def utc() -> Iterator[None]:
    """Journal lines show the time of day: the same one on every machine."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.fixture
def herd(tmp_path: Path) -> FakeHerd:
    return make_herd(tmp_path / "project")


def corral(herd: FakeHerd, cls: type[CorralApp] = CorralApp, **options: Any) -> CorralApp:
    """The app (or the subclass `cls`) with polling and alerts off and no start offer unless
    asked: tests look when they mean to, and only the alert tests see alerts."""
    options.setdefault("poll", None)
    options.setdefault("notifications", False)
    options.setdefault("offer_up", False)
    options.setdefault("settings_path", herd.repo.root / "no-user-config.toml")
    options.setdefault("environ", {})
    return cls(herd, **options)


class Notes:
    """Every notification the app showed, in order."""

    def __init__(self, app: CorralApp) -> None:
        self.messages: list[tuple[str, str]] = []
        self.titles: list[str] = []
        original = app.notify

        def notify(message: str, *args: Any, **kwargs: Any) -> None:
            self.messages.append((str(message), str(kwargs.get("severity", "information"))))
            self.titles.append(str(kwargs.get("title", "")))
            original(message, *args, **kwargs)

        app.notify = notify  # type: ignore[method-assign]

    def text(self) -> str:
        return "\n".join(message for message, _ in self.messages)

    def errors(self) -> list[str]:
        return [message for message, severity in self.messages if severity == "error"]


async def until(
    pilot: Pilot[Any], condition: Callable[[], T], timeout: float = 10.0, what: str = ""
) -> T:
    """Let the app run until `condition` holds; fail after `timeout` seconds."""
    end = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < end:
        last = condition()
        if last:
            return last
        await pilot.pause(0.02)
    pytest.fail(f"timed out after {timeout} s waiting for {what or condition}; last: {last!r}")
