"""The runner's own small values, checked against what they stand in for."""

from __future__ import annotations

import uuid

from sessions.runner import session_id


def test_a_session_id_is_what_uuid4_would_write() -> None:
    """The runner writes a run's session id without the `uuid` module; the CLIs that take it
    (Claude Code's `--session-id`) want a version 4 UUID in its usual form."""
    ids = {session_id() for _ in range(2000)}
    assert len(ids) == 2000
    for text in ids:
        parsed = uuid.UUID(text)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == text
