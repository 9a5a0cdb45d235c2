"""The journal's vocabulary: what an event is, the words corral writes about agents itself,
and the version stamp of state saved from events.

A value module so the fold, the judges and the screens can name events without loading the
journal's file handling.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

Event = dict[str, Any]

# corral's own words about agents (summaries of them, and failures to get one)
SUMMARY = "summary"
SUMMARY_FAILED = "summary_failed"
DIGEST = "digest"
QUIET_EVENTS = frozenset({SUMMARY, SUMMARY_FAILED, DIGEST})


def schema_version(*classes: type) -> str:
    """Changes whenever a class the saved state is made of gains, loses or renames a field."""
    names = ";".join(
        f"{c.__name__}:{','.join(f.name for f in dataclasses.fields(c))}" for c in classes
    )
    return hashlib.sha256(names.encode()).hexdigest()[:16]
