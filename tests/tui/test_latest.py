"""The back-pressure the dashboard's reads and the app's looks share: one running per kind,
and of the requests made meanwhile only the latest runs next."""

from __future__ import annotations

from tui.latest import Latest


def test_the_first_request_starts_and_the_next_waits() -> None:
    latest: Latest[str] = Latest()
    assert latest.ask("diff", "alpha") == "alpha"
    assert latest.running("diff")
    assert latest.ask("diff", "bravo") is None


def test_a_newer_request_replaces_an_older_waiting_one() -> None:
    latest: Latest[str] = Latest()
    latest.ask("diff", "alpha")
    latest.ask("diff", "bravo")
    latest.ask("diff", "charlie")
    assert latest.done("diff") == "charlie"  # bravo was made moot: it never runs
    assert latest.done("diff") is None
    assert not latest.running("diff")


def test_requests_never_pile_up() -> None:
    latest: Latest[int] = Latest()
    started = [latest.ask("look", 0)]
    for n in range(1, 100):
        assert latest.ask("look", n) is None
    while (request := latest.done("look")) is not None:
        started.append(request)
    assert started == [0, 99]


def test_kinds_do_not_wait_for_each_other() -> None:
    latest: Latest[str] = Latest()
    assert latest.ask("diff", "alpha") == "alpha"
    assert latest.ask("capture", "%1") == "%1"
    assert latest.done("capture") is None
    assert latest.running("diff") and not latest.running("capture")
    assert latest.ask("capture", "%2") == "%2"
